"""`opsplay schema`: draft-07, editor friendly, agreeing with `opsplay validate` on structure."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from opsplay.config import Config
from opsplay.diagnostics import Severity
from opsplay.validate import validate_paths

from .conftest import Cli
from .support import CASES, PLAYBOOKS

STRUCTURE_RULES = {"OPS101", "OPS102", "OPS103", "OPS104", "OPS106"}
# Broken on structure, so a schema-only validator must reject them too.
STRUCTURALLY_BROKEN = [
    "missing-required-keys.yaml",
    "unknown-keys.yaml",
    "wrong-api-version.yaml",
    "bad-enums.yaml",
    "bad-metric-kind.yaml",
    "wrong-types.yaml",
    "timestamps-for-dates.yaml",
]
# Valid and structurally sound; cases where opsplay is deliberately more lenient than the schema
# (ids and text written as YAML numbers, read as written) are left out.
STRUCTURALLY_SOUND = sorted(
    p for p in (CASES / "valid").glob("*.yaml") if p.name != "numeric-ids-and-edges.yaml"
) + sorted(PLAYBOOKS.glob("*.yaml"))


class _EditorLoader(yaml.SafeLoader):
    """Reads YAML roughly as yaml-language-server does: dates stay text."""


_EditorLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from typer.testing import CliRunner

    from opsplay.cli import app

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def _schema_accepts(validator: jsonschema.Draft7Validator, path: Path) -> list[str]:
    data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_EditorLoader)  # noqa: S506 - a SafeLoader
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    ]


def _opsplay_structure_errors(path: Path) -> list[str]:
    result = validate_paths([path], Config())
    return [
        f"{d.path}: {d.rule}"
        for d in result.diagnostics
        if d.rule in STRUCTURE_RULES and d.severity is Severity.ERROR
    ]


def test_schema_is_draft_07(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "$defs" not in text and "#/definitions/" in text
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {
        "apiVersion",
        "kind",
        "metadata",
        "goal",
        "roles",
        "metrics",
        "nodes",
    }


def test_schema_is_editor_friendly(schema: dict[str, Any]) -> None:
    """yaml-language-server shows descriptions on hover and offers examples and enums."""
    assert schema["description"]
    for key, prop in schema["properties"].items():
        assert prop.get("description"), f"top-level `{key}` has no description"
    for name, definition in schema["definitions"].items():
        assert definition.get("description"), f"{name} has no description"
        assert definition.get("additionalProperties") is False, f"{name} allows unknown keys"
        for key in definition.get("required", []):
            prop = definition["properties"][key]
            assert prop.get("description") or prop.get("examples") or "$ref" in prop, (
                f"{name}.{key}"
            )
    examples = json.dumps(schema, ensure_ascii=False)
    for sample in ("new-user-onboarding", "次日留存率", "2分钟内", "实时", "PT2M"):
        assert sample in examples
    status = schema["definitions"]["Metadata"]["properties"]["status"]
    assert status["enum"] == [
        *("draft", "pilot", "rollout", "active", "retired"),
        *("草稿", "试点", "推广", "生效", "启用", "停用", "废弃"),  # SPEC 6: editors complete both
    ]


def test_schema_chinese_is_readable(cli: Cli) -> None:
    assert "次日留存率" in cli("schema").stdout


@pytest.mark.parametrize("path", STRUCTURALLY_SOUND, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_both_accept_sound_playbooks(validator: jsonschema.Draft7Validator, path: Path) -> None:
    assert _schema_accepts(validator, path) == []
    assert _opsplay_structure_errors(path) == []


@pytest.mark.parametrize("name", STRUCTURALLY_BROKEN)
def test_both_reject_structurally_broken_playbooks(
    validator: jsonschema.Draft7Validator, name: str
) -> None:
    path = CASES / "invalid" / name
    assert _schema_accepts(validator, path) != []
    assert _opsplay_structure_errors(path) != []


def test_init_skeleton_matches_the_schema(
    validator: jsonschema.Draft7Validator, tmp_path: Path
) -> None:
    from opsplay.skeleton import write_skeleton

    for lang in ("zh", "en"):
        path = write_skeleton(f"skeleton-{lang}", tmp_path, lang, today=dt.date(2024, 8, 1))
        assert _schema_accepts(validator, path) == []


def test_schema_patterns_are_ecma_regexes(cli: Cli, tmp_path: Path) -> None:
    """Editors and check-jsonschema read `pattern` as ECMA 262 (unicode) regexes, not Python's."""
    import subprocess
    import sys

    schema_file = tmp_path / "opsplay.schema.json"
    schema_file.write_text(cli("schema").stdout, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--check-metaschema", str(schema_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
