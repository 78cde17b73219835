"""Pilot measurement: reading exports, statistics, comparison, planning, SQL."""
