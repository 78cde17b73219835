"""`opsplay validate`: find playbook files, check each, and collect positioned diagnostics.

Floor: rules/validate (model → load → rules/validate → versions). May import the model, the
loading floor (config, discovery, loader, schema_check, diagnostics) and the rules; never the
versions floor (`version_check`, `opsplay.diff`), the pilot or the renderers: `--base` is put
beside validate by the command, and `opsplay validate` stays free of pandas, scipy and jinja2.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from opsplay.config import UNREADABLE_RULES, Config
from opsplay.diagnostics import RULES, Diagnostic, Severity, error_listing, words
from opsplay.discovery import (
    SUFFIXES,
    Unreadable,
    discover,
    display_name,
    find_entries,
    inspect,
    read_limited,
    require_regular_file,
)
from opsplay.errors import InputError, UsageError
from opsplay.i18n import _
from opsplay.loader import LoadedFile, Position, load_file
from opsplay.model.playbook import Playbook
from opsplay.rules import PlaybookData, run_rules
from opsplay.schema_check import check_schema

__all__ = ["SUFFIXES", "discover", "display_name"]  # kept here for the other commands


@dataclass(frozen=True)
class ValidationResult:
    """What one validate run found, ready for a formatter."""

    files: int
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, list[str]] = field(default_factory=dict)  # file → lines, for carets

    def adding(self, diagnostics: list[Diagnostic]) -> ValidationResult:
        """The same run with more findings (the version check of `--base`), in order."""
        merged = tuple(sorted([*self.diagnostics, *diagnostics]))
        return ValidationResult(self.files, merged, self.sources)

    def strict(self) -> ValidationResult:
        """The same findings with every warning made an error (`--strict`)."""
        promoted = tuple(replace(d, severity=Severity.ERROR) for d in self.diagnostics)
        return ValidationResult(self.files, promoted, self.sources)

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)


@dataclass
class CheckedFile:
    """One file after loading, schema and rules."""

    path: Path
    loaded: LoadedFile
    playbook: Playbook | None


def check_file(path: Path, config: Config, problem: str | None = None) -> CheckedFile:
    """Load one file, check it against the schema and run every rule (an entry that cannot
    be read is one OPS010 finding)."""
    name = display_name(path)
    try:
        if problem is not None:
            raise Unreadable(problem)
        raw = read_limited(path, config.max_file_kb)
    except Unreadable as refusal:
        loaded = LoadedFile(file=name, data=None)
        loaded.report("OPS010", (), refusal.message, at=Position(1, 1))
        return CheckedFile(path, loaded, None)
    loaded, playbook = _check_raw(raw, name, config)
    return CheckedFile(path, loaded, playbook)


def _check_raw(raw: bytes, name: str, config: Config) -> tuple[LoadedFile, Playbook | None]:
    loaded = load_file(raw, name)
    playbook = None
    if isinstance(loaded.data, dict):
        playbook = check_schema(loaded)
        run_rules(PlaybookData(loaded, config.realtime_seconds, config.hygiene, config.calendar))
    return loaded, playbook


def check_content(
    raw: bytes, name: str, config: Config
) -> tuple[Playbook | None, list[Diagnostic]]:
    """A playbook given as bytes (a file's, or a version's from git), checked as validate
    checks it: the playbook (None when unreadable) and its errors, after the configuration
    and the inline suppressions."""
    loaded, playbook = _check_raw(raw, name, config)
    errors = sorted(d for d in _apply_settings(loaded, config) if d.severity is Severity.ERROR)
    return playbook, errors


def validate_paths(
    targets: list[Path], config: Config, *, context: list[Path] | None = None
) -> ValidationResult:
    """Check the playbooks under `targets`; `context` files join only the cross-file checks."""
    entries = find_entries(targets, _roots(config), follow_symlinks=config.follow_symlinks)
    if not entries:
        raise UsageError(
            _("no playbook files (*.yaml, *.yml) in {paths}").format(
                paths=words([str(t) for t in targets])
            )
        )
    checked = [check_file(entry.path, config, entry.problem) for entry in entries]
    given = {entry.path for entry in entries}
    extra = [
        entry.path
        for entry in find_entries(
            [c for c in context or [] if c.exists()],
            _roots(config),
            follow_symlinks=config.follow_symlinks,
        )
        if entry.problem is None and entry.path not in given
    ]
    _unique_playbook_ids(
        checked, [loaded for path in extra if (loaded := _load_context(path, config)) is not None]
    )
    diagnostics: list[Diagnostic] = []
    for item in checked:
        diagnostics += _apply_settings(item.loaded, config)
    return ValidationResult(
        files=len(checked),
        diagnostics=tuple(sorted(diagnostics)),
        sources={item.loaded.file: item.loaded.lines for item in checked},
    )


def _roots(config: Config) -> list[Path]:
    """Where a symlink may point without `--follow-symlinks`: the project of the files and the
    project the command runs in (the nearest folder holding `.opsplay.toml`,
    `pyproject.toml` or `.git`), never `/` or the home folder. Run from `/`, as some CI
    containers do, the working directory is no project: "inside the cwd" would be everywhere."""
    home = Path.home().resolve()
    anchors = [config.root.resolve(), _project_root(Path.cwd())]
    return [
        anchor
        for anchor in dict.fromkeys(anchors)
        if anchor is not None and anchor != Path(anchor.anchor) and anchor != home
    ]


def _project_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that marks a project, or None."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        if any(
            (folder / marker).exists() for marker in (".opsplay.toml", "pyproject.toml", ".git")
        ):
            return folder
    return None


def validate_project(paths: list[Path], config: Config) -> ValidationResult:
    """`opsplay validate`: the given paths (default: the configured folders), checked with the
    rest of the project for cross-file rules. `--base` (opsplay.version_check) and `--strict`
    are added beside this by the command, not under it: validate needs no differ."""
    folders = [config.root / p for p in config.paths]
    targets = paths or folders
    return validate_paths(targets, config, context=precommit_context(targets, folders))


def precommit_context(targets: list[Path], folders: list[Path]) -> list[Path]:
    """Files that join the cross-file checks (a pre-commit run passes single files).

    The configured playbook folders, recursively, and the playbooks next to each given file
    (not below it: a file at the repository root must not walk into node_modules or a venv).
    """
    siblings = {
        sibling
        for target in targets
        if target.is_file()
        for sibling in target.parent.iterdir()
        if sibling.suffix in SUFFIXES and not sibling.name.startswith(".")
    }
    return folders + sorted(siblings)


def _load_context(path: Path, config: Config) -> LoadedFile | None:
    """A file joining only the cross-file checks: parsed, not checked, skipped if unreadable."""
    try:
        return load_file(read_limited(path, config.max_file_kb), display_name(path))
    except Unreadable:
        return None


def _unique_playbook_ids(checked: list[CheckedFile], context: list[LoadedFile]) -> None:
    first: dict[str, str] = {}
    for loaded in [*context, *(item.loaded for item in checked)]:
        data = loaded.data or {}
        playbook_id = (
            data.get("metadata", {}).get("id") if isinstance(data.get("metadata"), dict) else None
        )
        if isinstance(playbook_id, (int, float)) and not isinstance(playbook_id, bool):
            playbook_id = getattr(playbook_id, "yaml_source", str(playbook_id))  # `id: 2024`
        if not isinstance(playbook_id, str):
            continue
        if playbook_id in first:
            loaded.report(
                "OPS206",
                ("metadata", "id"),
                _(
                    "playbook id `{id}` is already used by {file}; "
                    "give each playbook its own metadata.id"
                ).format(id=playbook_id, file=first[playbook_id]),
            )
        else:
            first[playbook_id] = loaded.file


def _apply_settings(loaded: LoadedFile, config: Config) -> list[Diagnostic]:
    """Apply configuration (disable, re-level) and inline suppressions to one file's findings."""
    kept = [
        replace(d, severity=config.severity.get(d.rule, d.severity))
        for d in loaded.diagnostics
        if d.rule not in config.disable
    ]
    for suppression in loaded.suppressions:
        unknown = [r for r in suppression.rules if r not in RULES]
        unreadable = [r for r in suppression.rules if r in UNREADABLE_RULES]
        problems = []
        if unknown:
            problems.append(
                _("unknown rule id {rules} (`opsplay rules` lists them)").format(
                    rules=words(unknown)
                )
            )
        if unreadable:
            problems.append(
                _("{rules} cannot be suppressed: the file was not read").format(
                    rules=words(unreadable)
                )
            )
        if not suppression.reason:
            example = ",".join(suppression.rules) or "OPS203"
            problems.append(
                _("it needs a reason: `# opsplay: disable={rules} -- why this is fine`").format(
                    rules=example
                )
            )
        if problems:
            kept.append(
                Diagnostic(
                    loaded.file,
                    suppression.line,
                    suppression.column,
                    "OPS602",
                    _level("OPS602", config),
                    _("suppression ignored: {problems}").format(problems=_("; ").join(problems)),
                )
            )
            continue
        matched = [
            d for d in kept if d.line == suppression.applies_to and d.rule in suppression.rules
        ]
        if matched:
            kept = [d for d in kept if d not in matched]
        else:
            kept.append(
                Diagnostic(
                    loaded.file,
                    suppression.line,
                    suppression.column,
                    "OPS601",
                    _level("OPS601", config),
                    _("suppression of {rules} matches nothing on line {line}; remove it").format(
                        rules=words(suppression.rules), line=suppression.applies_to
                    ),
                )
            )
    return [d for d in kept if d.rule not in config.disable]


def _level(rule: str, config: Config) -> Severity:
    return config.severity.get(rule, RULES[rule].severity)


def load_playbook(path: Path, config: Config | None = None) -> Playbook:
    """Load one valid playbook for the other commands; raise InputError listing its errors."""
    from opsplay.config import find_config

    config = config or find_config(path.parent)
    require_regular_file(path)
    if not path.is_file():
        raise InputError(_("{path}: no such playbook file").format(path=path))
    entry = inspect(path, _roots(config), config.follow_symlinks)
    checked = check_file(entry.path, config, entry.problem)
    errors = sorted(
        d for d in _apply_settings(checked.loaded, config) if d.severity is Severity.ERROR
    )
    if errors or checked.playbook is None:
        raise InputError(
            _("{file} is not a valid playbook (run `opsplay validate {file}`):").format(
                file=display_name(path)
            )
            + "\n"
            + error_listing(errors)
        )
    return checked.playbook
