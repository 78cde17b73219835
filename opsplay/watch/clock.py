"""The one clock of opsplay.watch (tests replace these two functions, nothing else)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def sleep(seconds: float) -> None:
    """Wait between retries."""
    time.sleep(seconds)
