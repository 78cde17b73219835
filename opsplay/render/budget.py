"""Limits for templates: a render that takes too long, or builds text too large, stops with a message.

User templates (`--templates`) come from pull requests too. The sandbox keeps them away from
Python's internals, but not from `{{ "x" * 10**9 }}`, `"".center(10**9)`, `indent(10**9)`,
nested loops over `range`, or `lipsum(10**9)`: those reach gigabytes or run unbounded. Here:
- every string, list or repeated text a template builds is capped (`MAX_TEXT` characters)
  *before* it is built, where the size is known in advance (`*`, `center`, `ljust`,
  `zfill`, `expandtabs`, `replace`, `join`, `indent`, `format` widths, `lipsum`), and checked
  after every call and attribute read otherwise (so it can overshoot by one doubling at most);
- the whole document is capped (`MAX_OUTPUT` characters);
- a render has a time budget (`MAX_SECONDS`), checked at every call, attribute read,
  operator, `range` step and output chunk;
- a number has at most `MAX_DIGITS` digits (`{{ 10**10000 }}` cannot be printed).
Exceeding any of them raises `BudgetExceeded`, which the renderer reports with the template
file and line.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment

from opsplay.i18n import _

MAX_TEXT = 1_000_000  # characters in one value: a whole SOP is a few ten thousand
MAX_OUTPUT = 10_000_000  # characters in one rendered document
MAX_SECONDS = 10.0
# Digits of a number: Python will not turn an int of more than 4,300 digits into text.
MAX_DIGITS = 4_000
_MAX_BITS = int(MAX_DIGITS * 3.3219)  # log2(10) bits a digit
_RANGE_CHECK_EVERY = 1024
# A width or precision of seven digits or more in a format string (`{:>1000000000}`, `%9999999s`).
_HUGE_FORMAT_WIDTH = re.compile(r"\d{7,}")


class BudgetExceeded(Exception):
    """A template went over its time or size budget (the message says which and how to fix it)."""


def _out_of_time() -> BudgetExceeded:
    return BudgetExceeded(
        _(
            "the template took longer than {seconds:g} seconds (loops too large?); "
            "rendering stopped"
        ).format(seconds=MAX_SECONDS)
    )


@contextlib.contextmanager
def alarm() -> Iterator[None]:
    """A backstop for loops that call nothing the sandbox sees (`{% for a in s %}{% for b in
    s %}{% endfor %}{% endfor %}`): a timer signal one second after the budget. Only in the
    main thread and when no other timer is running; elsewhere the cooperative checks remain."""
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise _out_of_time()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS + 1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _too_large(size: int) -> BudgetExceeded:
    return BudgetExceeded(
        _(
            "the template builds a text of {size} characters; the limit is {limit} "
            "(templates are for documents, not data)"
        ).format(size=size, limit=MAX_TEXT)
    )


def number_too_long() -> BudgetExceeded:
    """A number with more digits than a document shows (Python refuses to print those)."""
    return BudgetExceeded(
        _(
            "the template computes a number of more than {digits} digits, too long to show in "
            "a document; check the arithmetic (`**`, `*`) on that line"
        ).format(digits=f"{MAX_DIGITS:,}")
    )


def check_size(value: Any) -> Any:
    """`value`, or BudgetExceeded when it is a string or list above MAX_TEXT."""
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_TEXT:
        raise _too_large(len(value))
    return value


def _check_format(text: Any) -> None:
    if isinstance(text, str) and _HUGE_FORMAT_WIDTH.search(text):
        raise _too_large(int(_HUGE_FORMAT_WIDTH.search(text).group()))  # type: ignore[union-attr]


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 1


def _estimate_str_method(name: str, text: str, args: tuple[Any, ...]) -> int | None:
    """The size a str method will produce, known before it runs (None: no estimate needed)."""
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        return max(len(text), args[0])
    if name == "expandtabs":
        tab = args[0] if args and isinstance(args[0], int) else 8
        return len(text) + text.count("\t") * max(tab, 0)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str):
        old, new = args[0], str(args[1])
        found = text.count(old) if old else len(text) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            found = min(found, args[2])
        return len(text) + found * (len(new) - len(old))
    if name == "join" and args and isinstance(args[0], list):
        items = args[0]
        return sum(len(str(item)) for item in items) + len(text) * max(len(items) - 1, 0)
    return None


class _Range(Sequence[int]):
    """`range` for templates: a sequence like Python's (`|length`, `[0]`, `|list` work) whose
    iteration checks the clock, so nested loops end within the time budget."""

    def __init__(self, numbers: range, tick: Callable[[], None]) -> None:
        self.numbers, self.tick = numbers, tick

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index: Any) -> Any:
        return self.numbers[index]

    def __iter__(self) -> Iterator[int]:
        for index, number in enumerate(self.numbers):
            if index % _RANGE_CHECK_EVERY == 0:
                self.tick()
            yield number


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with a time budget and size caps (see the module docstring)."""

    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = float("inf")
        self._steps = 0
        self.globals["range"] = self._range
        self.globals["lipsum"] = _capped_lipsum(self.globals["lipsum"])
        for name, width_at in (("center", 1), ("indent", 1)):
            self.filters[name] = _capped_width(self.filters[name], width_at)
        self.filters["format"] = _capped_format(self.filters["format"])
        self.filters["join"] = _capped_join(self.filters["join"])
        self.filters["replace"] = _capped_replace(self.filters["replace"])

    # time ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the clock of one render."""
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self) -> None:
        """BudgetExceeded when the render has run out of time (the clock is read every
        64 steps: cheap enough for every attribute read, often enough for any loop)."""
        self._steps += 1
        if self._steps & 63 == 0 and time.monotonic() > self.deadline:
            raise _out_of_time()

    def _range(self, *args: int) -> _Range:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise _too_large(len(numbers))
        return _Range(numbers, self.tick)

    # hooks the sandbox calls for every operator, call and attribute in a template ---------

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Operators with their result size checked before they run."""
        self.tick()
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    check_size_estimate(len(sequence) * max(count, 0))
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
                if right * max(abs(left).bit_length(), 1) > 64 * 1024:
                    raise _too_large(right)
        elif operator == "%":
            _check_format(left)
        elif operator == "+":
            check_size_estimate(_sized(left) + _sized(right))
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int) and result.bit_length() > _MAX_BITS:
            raise number_too_long()
        return check_size(result)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Calls, with str methods that would build a huge text refused before they run."""
        __self.tick()
        for value in (*args, *kwargs.values()):
            check_size(value)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name == "join" and args:  # an iterator is read once: measure a list instead
                args = (list(args[0]), *args[1:])
            estimate = _estimate_str_method(name, owner, args)
            if estimate is not None:
                check_size_estimate(estimate)
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Attribute reads, with the time checked and `str.format` widths capped."""
        self.tick()
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _check_format(obj)
        return check_size(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Item reads, with the time checked."""
        self.tick()
        return check_size(super().getitem(obj, argument))


def check_size_estimate(size: int) -> None:
    """BudgetExceeded when an operation would build more than MAX_TEXT characters."""
    if size > MAX_TEXT:
        raise _too_large(size)


def _capped_width(function: Callable[..., Any], width_at: int) -> Callable[..., Any]:
    def capped(*args: Any, **kwargs: Any) -> Any:
        width = args[width_at] if len(args) > width_at else kwargs.get("width", 0)
        if isinstance(width, int):
            text = args[0] if args else ""
            lines = str(text).count("\n") + 1
            check_size_estimate(len(str(text)) + abs(width) * lines)
        return check_size(function(*args, **kwargs))

    return capped


def _capped_format(function: Callable[..., Any]) -> Callable[..., Any]:
    def capped(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_format(value)
        return check_size(function(value, *args, **kwargs))

    return capped


def _capped_join(function: Callable[..., Any]) -> Callable[..., Any]:
    def capped(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        if attribute is None:
            size = sum(len(str(item)) for item in items) + len(str(d)) * max(len(items) - 1, 0)
            check_size_estimate(size)
        return check_size(function(eval_ctx, items, d, attribute))

    capped.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return capped


def _capped_replace(function: Callable[..., Any]) -> Callable[..., Any]:
    def capped(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> Any:
        args = (str(old), str(new)) + (() if count is None else (count,))
        estimate = _estimate_str_method("replace", str(s), args)
        if estimate is not None:
            check_size_estimate(estimate)
        return check_size(function(eval_ctx, s, old, new, count))

    capped.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return capped


def _capped_lipsum(function: Callable[..., Any]) -> Callable[..., Any]:
    def capped(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:  # noqa: A002
        if isinstance(n, int) and isinstance(max, int):
            check_size_estimate(n * max * 8)  # words of up to ~8 characters with their space
        return check_size(function(n, html, min, max))

    return capped
