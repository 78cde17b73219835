"""Errors the core raises for the user; the CLI prints them and exits with their code."""

from __future__ import annotations


class OpsplayError(Exception):
    """A mistake the user can fix; carries the message to print and the exit code."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
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
