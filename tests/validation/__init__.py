"""Slow statistical validation (`pytest -m validation`).

A package, so that pytest puts tests/ (not tests/validation/) on sys.path and the shared
tests/reference.py imports from here as it does from tests/.
"""
