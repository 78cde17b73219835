"""Errors the core raises for the user; the CLI prints them and exits with their code."""

from __future__ import annotations

from opsplay.credentials import scrub_passwords


class OpsplayError(Exception):
    """A mistake the user can fix; carries the message to print and the exit code."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        # A password written as `password=…` (a libpq string given as `--db`) is never shown.
        message = scrub_passwords(message)
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(OpsplayError):
    """Bad command-line usage or configuration (exit 2)."""


class InputError(OpsplayError):
    """An input file that cannot be read or understood (exit 2)."""


class TemplateError(OpsplayError):
    """A template that fails to load or render (exit 2)."""
