"""`opsplay validate --base REF`: changed playbooks must carry a higher version.

For every playbook changed since the merge base of REF and HEAD (renames followed):
- content changed (semantically: not just formatting or comments) and the version did
  not increase → OPS701 (error);
- the version went down → OPS702 (error);
- the version increased less than the changes call for (see `opsplay.diff`) → OPS703
  (warning);
- the version changed and the changelog, present at the base, is now empty → OPS704
  (error); a changelog whose first entry is not the version is already OPS402;
- the base version cannot be compared (not a valid playbook, or not semver) → OPS705
  (warning), so that nothing passes silently.
New playbooks are exempt. Missing refs and shallow clones raise UsageError (exit 2).

Floor: versions, above validate. May import validate and everything below it, the differ
(`opsplay.diff`) and git (`opsplay.gitfiles`); `opsplay.cli.validate` calls it beside
`validate_project`, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opsplay.config import Config
from opsplay.diagnostics import RULES, Diagnostic, Severity
from opsplay.diff.changes import Classification, Level, PlaybookDiff, bump
from opsplay.diff.sources import diff_playbooks
from opsplay.diff.wording import describe
from opsplay.errors import UsageError
from opsplay.i18n import N_, _, message_language
from opsplay.loader import LoadedFile, load_file
from opsplay.rules.versioning import semver_match
from opsplay.schema_check import check_schema

# The OPS7xx rules of the catalogue (opsplay.diagnostics) that this check reports, with
# their default severity and summary.
VERSION_RULES: dict[str, tuple[Severity, str]] = {
    rule.id: (rule.severity, rule.summary) for rule in RULES.values() if rule.id.startswith("OPS7")
}


@dataclass(frozen=True)
class _Context:
    ref: str
    base: str
    config: Config
    classification: Classification

    @property
    def where(self) -> str:
        return _("{ref} (merge base {commit})").format(ref=self.ref, commit=self.base[:8])


def check_version_bumps(paths: list[Path], base_ref: str, config: Config) -> list[Diagnostic]:
    """Version-bump findings for playbooks under `paths` changed since `base_ref`'s merge base."""
    from opsplay.gitfiles import changed_files, merge_base, read_blobs, repo_root
    from opsplay.validate import discover

    targets = list(paths) or [config.root / p for p in config.paths]
    root = repo_root(targets[0].resolve() if targets[0].exists() else Path.cwd()).resolve()
    base = merge_base(root, base_ref)
    files = discover(targets)
    relative = {file: _relative(file, root) for file in files}
    specs = sorted({_relative(t.resolve(), root) for t in targets})
    changes = changed_files(root, base, specs)
    renamed_from = {
        c.new_path: c.old_path for c in changes if c.status in "MRT" and c.new_path and c.old_path
    }
    blobs = read_blobs(root, [f"{base}:{old}" for old in renamed_from.values()])
    context = _Context(
        base_ref, base, config, Classification.from_config(config.diff, config.source)
    )
    found: list[Diagnostic] = []
    for file in files:
        old_path = renamed_from.get(relative[file])
        if old_path is None:
            continue  # unchanged, or new (exempt)
        old_raw = blobs.get(f"{base}:{old_path}")
        if old_raw is None:
            continue
        found += _check_file(old_raw, old_path, file, context)
    return sorted(found)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise UsageError(
            _(
                "{path} is outside the git repository {root}; --base compares files inside it"
            ).format(path=path, root=root)
        ) from None


def _check_file(old_raw: bytes, old_path: str, file: Path, context: _Context) -> list[Diagnostic]:
    from opsplay.config import MAX_FILE_KB
    from opsplay.discovery import Unreadable, display_name, read_limited

    try:
        raw = read_limited(file, getattr(context.config, "max_file_kb", MAX_FILE_KB))
    except Unreadable:
        return []  # validate reports it (OPS010); nothing to compare
    new_loaded = load_file(raw, display_name(file))
    new = check_schema(new_loaded) if isinstance(new_loaded.data, dict) else None
    if new is None:
        return []  # validate reports why it is not a playbook; nothing to compare
    report = _Reporter(new_loaded, context.config)
    old_name = f"{context.base[:8]}:{old_path}"
    old_loaded = load_file(old_raw, old_name)
    old = check_schema(old_loaded) if isinstance(old_loaded.data, dict) else None
    if old is None:
        report(
            "OPS705",
            _(
                "cannot compare with {where}: {path} there is not a valid playbook, "
                "so the version check was skipped for this file"
            ).format(where=context.where, path=old_path),
        )
        return report.found
    old_version, new_version = old.metadata.version, new.metadata.version
    old_key, new_key = precedence(old_version), precedence(new_version)
    if old_key is None:
        report(
            "OPS705",
            _(
                "cannot compare versions with {where}: `{version}` there is not a "
                "semantic version; the version check was skipped for this file"
            ).format(where=context.where, version=old_version),
        )
        return report.found
    if new_key is None:
        return []  # OPS401 already asks for a semantic version
    result = diff_playbooks(
        old,
        new,
        old_name=old_name,
        new_name=new_loaded.file,
        classification=context.classification,
        realtime_seconds=context.config.realtime_seconds,
    )
    hint = _("`{command}` lists the changes").format(
        command=f"opsplay diff {context.base[:8]}:{old_path} {new_loaded.file}"
    )
    if new_key < old_key:
        wanted = result.suggested_version or bump(old_version, Level.PATCH)
        report(
            "OPS702",
            _(
                "metadata.version went down from {old} at {where} to {new}; "
                "versions only increase: use {wanted} or higher"
            ).format(old=old_version, where=context.where, new=new_version, wanted=wanted),
        )
    elif result.level is not Level.NONE and new_key == old_key:
        report(
            "OPS701",
            _(
                "content changed since {where} but metadata.version is still {old}; {why}: "
                "set it to {wanted} and add a changelog entry for it ({hint})"
            ).format(
                where=context.where,
                old=old_version,
                why=_why(result),
                wanted=result.suggested_version,
                hint=hint,
            ),
        )
    elif result.level is not Level.NONE and not _prerelease(old_version):
        wanted = result.suggested_version
        if wanted and new_key[:3] < (precedence(wanted) or new_key)[:3]:
            report(
                "OPS703",
                _("{old} → {new} is a {bump} bump but {why}: use {wanted} ({hint})").format(
                    old=old_version,
                    new=new_version,
                    bump=_(_bump_name(old_key, new_key)),
                    why=_why(result),
                    wanted=wanted,
                    hint=hint,
                ),
            )
    if new_key != old_key and old.metadata.changelog and not new.metadata.changelog:
        report(
            "OPS704",
            _(
                "metadata.version changed to {new} but the changelog is gone (it had "
                "{count} entries at {where}); keep it and add {new} at the top"
            ).format(new=new_version, count=len(old.metadata.changelog), where=context.where),
            path=("metadata",),
        )
    return report.found


def _why(result: PlaybookDiff) -> str:
    """'the changes are major (node `a` removed; …)' in the message language."""
    top = [c for c in result.changes if c.level is result.level]
    shown = _("; ").join(describe(c, message_language()).line for c in top[:3])
    more = (
        _("; and {count} more").format(count=len(result.changes) - 3)
        if len(result.changes) > 3
        else ""
    )
    return _("the changes are {level} ({changes})").format(
        level=_(result.level.label), changes=shown + more
    )


def _bump_name(old: tuple[object, ...], new: tuple[object, ...]) -> str:
    for index, name in enumerate((N_("major"), N_("minor"), N_("patch"))):
        if new[index] != old[index]:
            return name
    return N_("pre-release")


class _Reporter:
    """Collects diagnostics at metadata.version of the new file, with configuration applied."""

    def __init__(self, loaded: LoadedFile, config: Config) -> None:
        self.loaded, self.config = loaded, config
        self.found: list[Diagnostic] = []

    def __call__(
        self, rule: str, message: str, path: tuple[str | int, ...] = ("metadata", "version")
    ) -> None:
        if rule in self.config.disable:
            return
        severity = self.config.severity.get(rule, RULES[rule].severity)
        where = self.loaded.position(path)
        self.found.append(
            Diagnostic(
                self.loaded.file,
                where.line,
                where.column,
                rule,
                severity,
                message,
                ".".join(str(p) for p in path),
            )
        )


def precedence(version: str) -> tuple[object, ...] | None:
    """A sort key giving semantic-version precedence (pre-releases before their release)."""
    match = semver_match(version)  # never int() of a number with thousands of digits
    if not match:
        return None
    pre = match[4]
    if pre is None:
        tail: tuple[object, ...] = (1,)
    else:
        tail = (
            0,
            tuple(
                (0, int(p), "") if p.isdigit() and len(p) <= 15 else (1, 0, p)
                for p in pre.split(".")
            ),
        )
    return (int(match[1]), int(match[2]), int(match[3]), tail)


def _prerelease(version: str) -> bool:
    match = semver_match(version)
    return bool(match and match[4])
