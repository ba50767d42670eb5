"""The calendar of a country run: one step is one hour of local time from the scenario's start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class Calendar:
    start: datetime
    end: datetime

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / timedelta(hours=1))

    def hour(self, when: datetime) -> float:
        """Hours from the start (fractional: an event at 16:30 falls within the 17th hour)."""
        return (when - self.start) / timedelta(hours=1)

    def times(self) -> np.ndarray:
        """The end of each simulated hour, as datetime64."""
        first = np.datetime64(self.start) + np.timedelta64(1, "h")
        return first + np.arange(self.hours) * np.timedelta64(1, "h")
