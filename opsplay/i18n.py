"""The one message catalogue: every sentence opsplay prints, in English and Chinese.

Messages are written once, in English, at their call site inside `_()` (or `ngettext` for
plurals, `N_` for text kept in a table and translated where it is shown). The English
text is the message id; `opsplay/locale/zh_CN/LC_MESSAGES/opsplay.po` holds the Chinese,
compiled to `opsplay.mo` next to it (`python tools/catalogue.py` extracts, checks and
compiles; a test fails when a message lacks a translation or the `.mo` is stale).

Two languages are in play:
- the *message language* (diagnostics, errors, warnings, `--help`): `--lang` >
  `OPSPLAY_LANG` > `lang` in `[tool.opsplay]` > the locale (`LC_ALL`, `LC_MESSAGES`,
  `LANG` starting with `zh`) > `en`; set once per process by the CLI;
- the *document language* (SOPs, reports, pilot results): `--lang` > the playbook's
  language > the message language; code that writes a document passes it explicitly
  (`translate(msg, lang)`, `translations(lang)` for Jinja, or `with language(lang):`).

Only the standard library's gettext is imported, and the catalogue is read the first
time a Chinese message is asked for, so start-up does not pay for it.
"""

from __future__ import annotations

import contextlib
import gettext
import os
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
LANGUAGES: tuple[Lang, ...] = ("zh", "en")
DOMAIN = "opsplay"
LOCALE_DIR = Path(__file__).parent / "locale"
# gettext's name for the language each of our codes stands for
_GETTEXT_LOCALE = {"zh": "zh_CN", "en": "en"}

_message_language: Lang = "en"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext translations of one language (English is the identity)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_GETTEXT_LOCALE[lang]])


def set_language(lang: str) -> None:
    """Set the message language of this process (the CLI does it once, at start)."""
    global _message_language
    _message_language = normalise(lang) or "en"


def message_language() -> Lang:
    """The language messages are printed in."""
    return _message_language


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[None]:
    """Speak `lang` inside the block (a document in the playbook's language, say)."""
    previous = _message_language
    set_language(lang or previous)
    try:
        yield
    finally:
        set_language(previous)


def _(message: str) -> str:
    """`message` in the message language."""
    return translations(_message_language).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for `count`, in the message language."""
    return translations(_message_language).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark text for the catalogue without translating it yet (tables built at import)."""
    return message


def translate(message: str, lang: str | None = None) -> str:
    """`message` in `lang` (default: the message language)."""
    return translations(normalise(lang) or _message_language).gettext(message)


def normalise(value: str | None) -> Lang | None:
    """`zh`, `en` or None from what users write: `zh_CN.UTF-8`, `zh-Hans`, `EN`, `中文`."""
    if not value:
        return None
    text = value.strip().lower()
    if text.startswith("zh") or text in ("中文", "汉语", "简体中文"):
        return "zh"
    if text.startswith("en") or text in ("英文", "english"):
        return "en"
    return None


def language_from_locale(environ: dict[str, str] | os._Environ[str] = os.environ) -> Lang | None:
    """The language the locale asks for (the first of LC_ALL, LC_MESSAGES, LANG that is set)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else None
    return None


def resolve_message_language(
    cli_lang: str | None,
    config_lang: str | None = None,
    environ: dict[str, str] | os._Environ[str] = os.environ,
) -> Lang:
    """The message language in SPEC 6's order: flag, OPSPLAY_LANG, configuration, locale, en."""
    for candidate in (cli_lang, environ.get("OPSPLAY_LANG"), config_lang):
        lang = normalise(candidate)
        if lang:
            return lang
    return language_from_locale(environ) or "en"


def lang_from_argv(argv: Sequence[str]) -> str | None:
    """The value of `--lang X` / `--lang=X` on a command line, read before typer parses it
    (help texts are translated when the commands are declared)."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None
