"""OPS401–OPS403: semantic versions and the changelog."""

from __future__ import annotations

import datetime as dt
import re

from opsplay.rules import PlaybookData, Report, ident, rule

# The official semver 2.0.0 pattern.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def version_key(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a semantic version, or None."""
    match = SEMVER.match(version)
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
        if text is None or SEMVER.match(text):
            continue
        read_as = "a date" if isinstance(value, dt.date) else "a number"
        quoted = f" YAML reads it as {read_as}, so quote it;" if not isinstance(value, str) else ""
        digits = text[1:] if text[:1] in ("v", "V") else text
        parts = None
        if re.fullmatch(r"\d+(\.\d+){0,2}", digits):
            parts = [str(int(part)) for part in (digits.split(".") + ["0", "0"])[:3]]
        example = '"' + ".".join(parts) + '"' if parts else '"1.2.0"'
        report(
            path,
            f"version `{text}` is not a semantic version;{quoted} "
            f"write MAJOR.MINOR.PATCH such as {example}",
        )


@rule("OPS402")
def version_matches_changelog(pb: PlaybookData, report: Report) -> None:
    """The first changelog entry is the current version."""
    version = ident(pb.get("metadata", "version"))
    first = ident(pb.get("metadata", "changelog", 0, "version"))
    if version and first and version != first:
        report(
            ("metadata", "changelog", 0, "version"),
            f"the newest changelog entry is {first} but metadata.version is {version}; "
            f"add an entry for {version} at the top of the changelog (newest first)",
        )


@rule("OPS403")
def changelog_newest_first(pb: PlaybookData, report: Report) -> None:
    """Changelog entries are ordered newest first."""
    keys = [
        (i, version_key(ident(e.get("version")) or ""))
        for i, e in pb.entries("metadata", "changelog")
    ]
    for (_, newer), (i, older) in zip(keys, keys[1:], strict=False):
        if newer and older and older >= newer:
            report(
                ("metadata", "changelog", i, "version"),
                "the changelog must list the newest version first; "
                "move this entry above the ones older than it",
            )
            return
