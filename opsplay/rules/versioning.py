"""OPS401–OPS403: semantic versions and the changelog."""

from __future__ import annotations

import datetime as dt
import re

from opsplay.i18n import _
from opsplay.rules import PlaybookData, Report, ident, rule

# The official semver 2.0.0 pattern.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# A version number part longer than this is a typo (or an attack: thousands of digits
# make int() raise); such a version is reported, never converted.
MAX_PART_DIGITS = 15
_LONG_NUMBER = re.compile(r"\d{" + str(MAX_PART_DIGITS + 1) + ",}")


def semver_match(version: str) -> re.Match[str] | None:
    """The SEMVER match of a version whose number parts are of a sane length, else None."""
    if _LONG_NUMBER.search(version):
        return None
    return SEMVER.match(version)


def version_key(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a semantic version, or None."""
    match = semver_match(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


@rule("OPS401")
def version_is_semver(pb: PlaybookData, report: Report) -> None:
    """metadata.version and changelog versions are MAJOR.MINOR.PATCH."""
    places = [(("metadata", "version"), pb.get("metadata", "version"))]
    places += [
        (("metadata", "changelog", i, "version"), e.get("version"))
        for i, e in pb.entries("metadata", "changelog")
    ]
    for path, value in places:
        text = ident(value)
        if text is None or semver_match(text):
            continue
        if _LONG_NUMBER.search(text):
            report(
                path,
                _(
                    "a number in version `{version}` has more than {digits} digits; "
                    'write MAJOR.MINOR.PATCH such as "1.2.0"'
                ).format(version=text[:40] + "…", digits=MAX_PART_DIGITS),
            )
            continue
        digits = text[1:] if text[:1] in ("v", "V") else text
        parts = None
        if re.fullmatch(r"\d+(\.\d+){0,2}", digits):
            parts = [part.lstrip("0") or "0" for part in (digits.split(".") + ["0", "0"])[:3]]
        example = '"' + ".".join(parts) + '"' if parts else '"1.2.0"'
        if isinstance(value, str):
            message = _(
                "version `{version}` is not a semantic version; "
                "write MAJOR.MINOR.PATCH such as {example}"
            )
        elif isinstance(value, dt.date):
            message = _(
                "version `{version}` is not a semantic version; YAML reads it as a date, "
                "so quote it; write MAJOR.MINOR.PATCH such as {example}"
            )
        else:
            message = _(
                "version `{version}` is not a semantic version; YAML reads it as a number, "
                "so quote it; write MAJOR.MINOR.PATCH such as {example}"
            )
        report(path, message.format(version=text, example=example))


@rule("OPS402")
def version_matches_changelog(pb: PlaybookData, report: Report) -> None:
    """The first changelog entry is the current version."""
    version = ident(pb.get("metadata", "version"))
    first = ident(pb.get("metadata", "changelog", 0, "version"))
    if version and first and version != first:
        report(
            ("metadata", "changelog", 0, "version"),
            _(
                "the newest changelog entry is {first} but metadata.version is {version}; "
                "add an entry for {version} at the top of the changelog (newest first)"
            ).format(first=first, version=version),
        )


@rule("OPS403")
def changelog_newest_first(pb: PlaybookData, report: Report) -> None:
    """Changelog entries are ordered newest first."""
    keys = [
        (i, version_key(ident(e.get("version")) or ""))
        for i, e in pb.entries("metadata", "changelog")
    ]
    for (_index, newer), (i, older) in zip(keys, keys[1:], strict=False):
        if newer and older and older >= newer:
            report(
                ("metadata", "changelog", i, "version"),
                _(
                    "the changelog must list the newest version first; "
                    "move this entry above the ones older than it"
                ),
            )
            return
