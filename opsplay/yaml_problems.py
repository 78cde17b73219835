"""The words of YAML syntax errors (libyaml's and PyYAML's) in the message language.

The parser reports a context ("while parsing a flow sequence") and a problem ("did not
find expected ',' or ']'"). The English ids are the parser's own text, so English output
is what the parser says; a text not listed here is shown as is in English and replaced
by a general sentence in other languages (never half a sentence in English).
"""

from __future__ import annotations

from opsplay.i18n import N_, _, message_language

KNOWN = frozenset(
    {
        N_("while parsing a block mapping"),
        N_("while parsing a block collection"),
        N_("while parsing a block node"),
        N_("while parsing a flow sequence"),
        N_("while parsing a flow mapping"),
        N_("while parsing a flow node"),
        N_("while parsing a node"),
        N_("while parsing a quoted scalar"),
        N_("while parsing a block scalar"),
        N_("while parsing a plain scalar"),
        N_("while parsing a tag"),
        N_("while parsing an anchor"),
        N_("while parsing a directive"),
        N_("while scanning a quoted scalar"),
        N_("while scanning a simple key"),
        N_("while scanning a block scalar"),
        N_("while scanning a plain scalar"),
        N_("while scanning an anchor"),
        N_("while scanning an alias"),
        N_("while scanning a tag"),
        N_("while scanning a directive"),
        N_("while scanning for the next token"),
        N_("while parsing a block mapping"),
        N_("did not find expected ',' or ']'"),
        N_("did not find expected ',' or '}'"),
        N_("did not find expected '-' indicator"),
        N_("did not find expected key"),
        N_("did not find expected node content"),
        N_("could not find expected ':'"),
        N_("mapping values are not allowed in this context"),
        N_("found unexpected end of stream"),
        N_("found undefined alias"),
        N_("found duplicate anchor; first occurrence"),
        N_("second occurrence"),
        N_("found unknown escape character"),
        N_("found character that cannot start any token"),
        N_("found duplicate %YAML directive"),
        N_("found unexpected ':'"),
        N_("block sequence entries are not allowed in this context"),
        N_("found a tab character that violates indentation"),
        N_("found a tab character where an indentation space is expected"),
    }
)


def words(text: str | None) -> str | None:
    """A context or problem of the parser in the message language (None when unknown
    outside English, so that no English fragment ends up in a Chinese sentence)."""
    if not text:
        return None
    if text in KNOWN:
        return _(text)
    return text if message_language() == "en" else None


def unreadable() -> str:
    """The general sentence for a problem this table does not know."""
    return _("the text here cannot be read as YAML")
