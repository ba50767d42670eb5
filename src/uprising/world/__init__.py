"""The country layer: cities, calendar, events and information flow between cities (DESIGN 4)."""
