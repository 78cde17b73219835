"""click's and typer's own words ("Usage:", "Options", "No such option") in our catalogue.

typer (0.29 here) marks part of its texts with the standard library's `gettext.gettext`,
which looks them up in the *global* text domain, in the language the environment names:
`speak(lang)` binds our catalogue as that domain and names the message language in
`LANGUAGE` (the first variable gettext reads) before typer is imported. The click that
typer ships inside it writes a few texts as plain English ("Usage:", "Show this message
and exit.", the usage errors); `adapt_typer()` gives those our words through click's own
extension points (the context's `formatter_class`) and, where click has none, by
wrapping two small functions; each step is guarded, so a typer upgrade that moves them
falls back to English instead of breaking, and a test running `--help` and a bad option
in Chinese notices.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Callable
from typing import Any

from opsplay.i18n import DOMAIN, LOCALE_DIR, N_, _
from opsplay.text import joined

# LANGUAGE value gettext needs for each of our languages ("en": no catalogue, the ids)
_LANGUAGE = {"zh": "zh_CN", "en": "en"}

# The ids typer looks up through gettext (typer/core.py, typer/rich_utils.py).
TYPER_WORDS = (
    N_("Options"),
    N_("Commands"),
    N_("Arguments"),
    N_("Error"),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    N_("[default: {}]"),
    N_("[env var: {}]"),
    N_("[required]"),
    N_("(deprecated) "),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
    N_("Aborted."),
)

# Usage errors of the bundled click, as English it writes them → our message id (compiled
# when first used, through `re`'s cache: most runs make no usage error).
_ERRORS: tuple[tuple[str, str], ...] = (
    (
        r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.+)\)",
        N_("No such option: {name} (did you mean: {options})"),
    ),
    (r"No such option: (?P<name>.+)", N_("No such option: {name}")),
    (r"Missing argument (?P<name>.+?)\.(?: .*)?", N_("Missing argument {name}.")),
    (r"Missing option (?P<name>.+?)\.(?: .*)?", N_("Missing option {name}.")),
    (
        r"Got unexpected extra arguments? \((?P<args>.*)\)",
        N_("Got unexpected extra arguments ({args})"),
    ),
    (r"Option (?P<name>\S+) requires an argument\.", N_("Option {name} requires a value.")),
    (
        r"Option (?P<name>\S+) does not take a value\.",
        N_("Option {name} does not take a value."),
    ),
    (
        r"Invalid value for (?P<hint>.+?): (?:Value error, )?(?P<value>.+?) is not one of "
        r"(?P<choices>.+)\.",
        N_("Invalid value for {hint}: {value} is not one of {choices}."),
    ),
    (
        r"Invalid value for (?P<hint>.+?): (?:Value error, )?(?P<message>.+)",
        N_("Invalid value for {hint}: {message}"),
    ),
)


def translate_error(message: str) -> str:
    """A usage error of click in the message language (unchanged when not recognised)."""
    for pattern, wanted in _ERRORS:
        match = re.fullmatch(pattern, message.strip())
        if match:
            # click lists options and choices with `, `: list them as the language does (、)
            parts = {
                key: _listed(value) if key in ("options", "choices") else value
                for key, value in match.groupdict().items()
            }
            return _(wanted).format(**parts)
    return message


def _listed(text: str) -> str:
    return joined(item.strip("'") for item in text.split(", "))


def speak(lang: str) -> None:
    """Make click's and typer's own texts speak `lang` (call before any help is laid out)."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _LANGUAGE.get(lang, "en")


def adapt_typer() -> None:
    """Give the bundled click's plain-English texts our words (see the module docstring)."""
    try:
        from typer._click import core, decorators, exceptions
    except ImportError:  # another typer layout: its texts stay English
        return
    base = core.Context.formatter_class

    class Formatter(base):  # type: ignore[misc,valid-type]
        """click's help formatter with the usage prefix in the message language."""

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            from opsplay.cli.helpformat import usage_words

            # (the line above a usage error: its words as --help writes them)
            super().write_usage(prog, usage_words(args), _("Usage: ") if prefix is None else prefix)

    core.Context.formatter_class = Formatter
    original_help_option: Callable[..., Any] = decorators.help_option

    def help_option(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        decorate = original_help_option(*args, **kwargs)

        def apply(command: Any) -> Any:
            result = decorate(command)
            params = getattr(command, "params", None)
            if params:
                params[-1].help = _("Show this message and exit.")
            return result

        return apply

    decorators.help_option = help_option
    from opsplay.cli.helpformat import install

    install()  # help as plain text wrapped for Chinese (rich panels cut it)
    # The usage errors: each class that writes its own message, wrapped where it does (not in
    # typer's rich error printer, which would cost every start-up its import).
    for error_class in vars(exceptions).values():
        if isinstance(error_class, type) and "format_message" in vars(error_class):
            error_class.format_message = _translated(error_class.format_message)


def _translated(format_message: Callable[[Any], str]) -> Callable[[Any], str]:
    def wrapper(self: Any) -> str:
        return translate_error(format_message(self))

    return wrapper
