"""`opsplay validate`: find playbook files, check each, and collect positioned diagnostics."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from opsplay.config import UNREADABLE_RULES, Config
from opsplay.diagnostics import RULES, Diagnostic, Severity, error_listing
from opsplay.errors import InputError, UsageError
from opsplay.loader import LoadedFile, load_file
from opsplay.model.playbook import Playbook
from opsplay.rules import PlaybookData, run_rules
from opsplay.schema_check import check_schema

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ValidationResult:
    """What one validate run found, ready for a formatter."""

    files: int
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, list[str]] = field(default_factory=dict)  # file → lines, for carets

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


def display_name(path: Path) -> str:
    """Path as shown to users: relative to the working directory when below it, with `/`."""
    try:
        relative = Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()
    return path.as_posix() if relative.startswith("..") else relative


def discover(paths: list[Path]) -> list[Path]:
    """Playbook files under the given files and folders (recursive, sorted, hidden ones skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return list(dict.fromkeys(p.resolve() for p in found))


def check_file(path: Path, config: Config) -> CheckedFile:
    """Load one file, check it against the schema and run every rule."""
    name = display_name(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{name}: cannot read the file: {error.strerror}") from None
    loaded = load_file(raw, name)
    playbook = None
    if isinstance(loaded.data, dict):
        playbook = check_schema(loaded)
        run_rules(PlaybookData(loaded, config.realtime_seconds, config.hygiene))
    return CheckedFile(path, loaded, playbook)


def validate_paths(
    targets: list[Path], config: Config, *, context: list[Path] | None = None
) -> ValidationResult:
    """Check the playbooks under `targets`; `context` files join only the cross-file checks."""
    files = discover(targets)
    if not files:
        raise UsageError(
            f"no playbook files (*.yaml, *.yml) in {', '.join(str(t) for t in targets)}"
        )
    checked = [check_file(path, config) for path in files]
    given = set(files)
    extra = [p for p in discover([c for c in context or [] if c.exists()]) if p not in given]
    _unique_playbook_ids(
        checked, [loaded for path in extra if (loaded := _load_context(path)) is not None]
    )
    diagnostics: list[Diagnostic] = []
    for item in checked:
        diagnostics += _apply_settings(item.loaded, config)
    return ValidationResult(
        files=len(checked),
        diagnostics=tuple(sorted(diagnostics)),
        sources={item.loaded.file: item.loaded.lines for item in checked},
    )


def validate_project(
    paths: list[Path], config: Config, *, base: str | None = None, strict: bool = False
) -> ValidationResult:
    """`opsplay validate`: the given paths (default: the configured folders), checked with the
    rest of the project for cross-file rules, against a git base if asked, strict if asked."""
    folders = [config.root / p for p in config.paths]
    targets = paths or folders
    result = validate_paths(targets, config, context=precommit_context(targets, folders))
    if base is not None:
        from opsplay.version_check import check_version_bumps

        versions = check_version_bumps(targets, base, config)
        result = ValidationResult(
            result.files, tuple(sorted([*result.diagnostics, *versions])), result.sources
        )
    return result.strict() if strict else result  # SPEC: under --strict a warning is an error


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
        if sibling.suffix in SUFFIXES and sibling.is_file()
    }
    return folders + sorted(siblings)


def _load_context(path: Path) -> LoadedFile | None:
    """A file joining only the cross-file checks: parsed, not checked, skipped if unreadable."""
    try:
        return load_file(path.read_bytes(), display_name(path))
    except OSError:
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
                f"playbook id `{playbook_id}` is already used by {first[playbook_id]}; "
                "give each playbook its own metadata.id",
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
            problems.append(f"unknown rule id {', '.join(unknown)} (`opsplay rules` lists them)")
        if unreadable:
            problems.append(f"{', '.join(unreadable)} cannot be suppressed: the file was not read")
        if not suppression.reason:
            example = ",".join(suppression.rules) or "OPS203"
            problems.append(
                f"it needs a reason: `# opsplay: disable={example} -- why this is fine`"
            )
        if problems:
            kept.append(
                Diagnostic(
                    loaded.file,
                    suppression.line,
                    suppression.column,
                    "OPS602",
                    _level("OPS602", config),
                    "suppression ignored: " + "; ".join(problems),
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
                    f"suppression of {', '.join(suppression.rules)} matches nothing on line "
                    f"{suppression.applies_to}; remove it",
                )
            )
    return [d for d in kept if d.rule not in config.disable]


def _level(rule: str, config: Config) -> Severity:
    return config.severity.get(rule, RULES[rule].severity)


def load_playbook(path: Path, config: Config | None = None) -> Playbook:
    """Load one valid playbook for the other commands; raise InputError listing its errors."""
    from opsplay.config import find_config

    config = config or find_config(path.parent)
    if not path.is_file():
        raise InputError(f"{path}: no such playbook file")
    checked = check_file(path, config)
    errors = sorted(
        d for d in _apply_settings(checked.loaded, config) if d.severity is Severity.ERROR
    )
    if errors or checked.playbook is None:
        raise InputError(
            f"{display_name(path)} is not a valid playbook "
            f"(run `opsplay validate {display_name(path)}`):\n{error_listing(errors)}"
        )
    return checked.playbook
