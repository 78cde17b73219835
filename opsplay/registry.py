"""Output formats looked up by their `--format` name: one decorator factory for every command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., str])


def registrar(table: dict[str, F]) -> Callable[[str], Callable[[F], F]]:
    """A `@formatter("json")` decorator that files each function in `table` under its name."""

    def formatter(name: str) -> Callable[[F], F]:
        def register(function: F) -> F:
            table[name] = function
            return function

        return register

    return formatter
