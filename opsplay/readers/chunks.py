"""Progress of reading exports: bytes read so far, across files (for a progress bar)."""

from __future__ import annotations

from collections.abc import Callable


class Progress:
    """Reports bytes read so far, across files, to an optional callback (a progress bar)."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.done = 0

    def add(self, nbytes: int) -> None:
        """Count `nbytes` more bytes read and report the total."""
        self.done += nbytes
        if self.callback is not None and nbytes:
            self.callback(self.done)
