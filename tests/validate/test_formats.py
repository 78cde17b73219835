"""Output formats: text (golden), json (our schema), sarif (the official schema), github."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from opsplay.diagnostics import Diagnostic, Severity
from opsplay.formats import FORMATTERS, format_github, format_text
from opsplay.validate import ValidationResult

from .conftest import Cli
from .support import DATA, copy_case

GOLDEN_CASES = [
    "duplicate-keys.yaml",
    "gbk-encoding.yaml",
    "tab-indentation.yaml",
    "thresholds-out-of-range.yaml",
    "unknown-keys.yaml",
]
ERROR, WARNING = Severity.ERROR, Severity.WARNING


@pytest.fixture
def broken(project: Path) -> list[str]:
    """A few broken playbooks copied into an empty project; their names, as passed to validate."""
    for name in GOLDEN_CASES:
        copy_case(name, project / "cases")
    return [f"cases/{name}" for name in GOLDEN_CASES]


def _check_golden(name: str, text: str, update: bool) -> None:
    golden = DATA / "golden" / name
    if update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="")
    assert golden.read_text(encoding="utf-8") == text, f"regenerate with --update-goldens: {golden}"


def test_text_output_matches_golden(cli: Cli, broken: list[str], update_goldens: bool) -> None:
    result = cli("validate", *broken)
    assert result.exit_code == 1
    assert result.stdout.endswith(" warnings\n") or result.stdout.endswith(" warning\n")
    _check_golden("validate-text.txt", result.stdout, update_goldens)


def test_text_output_clean_run(cli: Cli, project: Path) -> None:
    copy_case("every-duration-form.yaml", project, kind="valid")
    result = cli("validate", "every-duration-form.yaml")
    assert (result.exit_code, result.stdout) == (0, "1 file checked: 0 errors, 0 warnings\n")


def test_text_caret_sits_under_the_column_after_wide_characters() -> None:
    source = ["  - {name: 满意度收集, sla: 0s}"]
    column = source[0].index("0s") + 1
    result = ValidationResult(
        1,
        (Diagnostic("a.yaml", 1, column, "OPS105", ERROR, "zero", "nodes[0].sla"),),
        {"a.yaml": source},
    )
    lines = format_text(result).splitlines()
    assert lines[2].index("^") - 4 == len("  - {name: ") + 2 * len("满意度收集") + len(", sla: ")


def test_output_is_sorted_and_independent_of_argument_order(cli: Cli, broken: list[str]) -> None:
    forward = cli("validate", "--format", "json", *broken).stdout
    backward = cli("validate", "--format", "json", *reversed(broken)).stdout
    assert forward == backward
    keys = [(d["file"], d["line"], d["column"]) for d in json.loads(forward)["diagnostics"]]
    assert keys == sorted(keys)


def test_json_output_follows_its_schema(cli: Cli, broken: list[str]) -> None:
    result = cli("validate", "--format", "json", *broken)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    schema = json.loads((DATA / "validate-output.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    severities = [d["severity"] for d in document["diagnostics"]]
    assert document["errors"] == severities.count("error") > 0
    assert document["warnings"] == severities.count("warning")
    assert document["files"] == len(broken)
    # text goes out as written (ensure_ascii=False): `—` in the English messages, not `\u2014`
    assert "—" in result.stdout and "\\u" not in result.stdout
    assert {d["file"] for d in document["diagnostics"]} == set(broken)
    assert {
        "file": "cases/duplicate-keys.yaml",
        "rule": "OPS003",
        "path": "metadata.status",
        "line": 9,
    } in [{k: d[k] for k in ("file", "rule", "path", "line")} for d in document["diagnostics"]]


def test_json_keeps_chinese_readable(cli: Cli, project: Path) -> None:
    copy_case("unknown-metric.yaml", project, as_name="次日留存.yaml")
    result = cli("validate", "-f", "json", "次日留存.yaml")
    assert result.exit_code == 1, result.output
    assert '"file": "次日留存.yaml"' in result.stdout and "\\u" not in result.stdout
    chinese = cli("validate", "-f", "json", "--lang", "zh", "次日留存.yaml")
    assert chinese.exit_code == 1, chinese.output
    assert "指标 `d1_retension` 不是已定义的指标 id" in chinese.stdout
    assert "\\u" not in chinese.stdout


def _sarif_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_sarif_output_is_valid_sarif_2_1_0(cli: Cli, broken: list[str]) -> None:
    result = cli("validate", "--format", "sarif", *broken)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    errors = sorted(_sarif_validator().iter_errors(document), key=str)
    assert errors == []
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for item in run["results"]:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        region = item["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    prints = [item["partialFingerprints"]["opsplay/v1"] for item in run["results"]]
    assert len(prints) == len(set(prints)), "fingerprints must be unique within a run"


def test_sarif_of_a_clean_run_is_valid(cli: Cli, project: Path) -> None:
    copy_case("en-incident-response.yaml", project, kind="valid")
    document = json.loads(cli("validate", "-f", "sarif", "en-incident-response.yaml").stdout)
    assert list(_sarif_validator().iter_errors(document)) == []
    assert document["runs"][0]["results"] == []


def _fingerprints(cli: Cli, *files: str) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(file, rule) → [(fingerprint, line)] in output order."""
    document = json.loads(cli("validate", "--format", "sarif", *files).stdout)
    found: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for item in document["runs"][0]["results"]:
        location = item["locations"][0]["physicalLocation"]
        key = (location["artifactLocation"]["uri"], item["ruleId"])
        found.setdefault(key, []).append(
            (item["partialFingerprints"]["opsplay/v1"], location["region"]["startLine"])
        )
    return found


def test_sarif_fingerprints_are_stable_when_lines_move(cli: Cli, project: Path) -> None:
    names = [
        "duplicate-keys.yaml",
        "tab-indentation.yaml",
        "suppression-unused.yaml",
        "syntax-error.yaml",
    ]
    for name in names:
        copy_case(name, project)
    before = _fingerprints(cli, *names)
    for name in names:  # an edit above every finding: comments and blank lines at the top
        path = project / name
        path.write_text(
            "# reviewed 2024-09-01\n\n# owner: ops\n" + path.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    after = _fingerprints(cli, *names)
    assert before.keys() == after.keys()
    assert {rule for _, rule in before} >= {"OPS002", "OPS003", "OPS006", "OPS201", "OPS601"}
    for key, items in before.items():
        assert [fp for fp, _ in items] == [fp for fp, _ in after[key]], key
        assert [line + 3 for _, line in items] == [line for _, line in after[key]], key


def test_github_annotations_errors_first_and_escaped() -> None:
    diagnostics = (
        Diagnostic("a,b:c.yaml", 2, 1, "OPS004", WARNING, "50% done\nnext", "metadata.title"),
        Diagnostic(
            "a,b:c.yaml",
            9,
            3,
            "OPS102",
            ERROR,
            "unknown key `nmae`",
            "nodes[0].nmae",
        ),
        Diagnostic("z.yaml", 1, 1, "OPS001", ERROR, "not UTF-8\r\n", ""),
    )
    text = format_github(ValidationResult(2, diagnostics, {}))
    assert text.splitlines() == [
        "::error file=a%2Cb%3Ac.yaml,line=9,col=3,title=OPS102::unknown key `nmae`",
        "::error file=z.yaml,line=1,col=1,title=OPS001::not UTF-8%0D%0A",
        "::warning file=a%2Cb%3Ac.yaml,line=2,col=1,title=OPS004::50%25 done%0Anext",
        "2 files checked: 2 errors, 1 warning",
    ]


def test_github_step_summary_is_appended_when_set(
    cli: Cli, broken: list[str], project: Path
) -> None:
    summary = project / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    result = cli(
        "validate", "--format", "github", *broken, env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### opsplay validate\n")
    assert "| `cases/duplicate-keys.yaml:9:3` | error | OPS003 |" in text
    assert result.stdout.startswith("::error ")


def test_github_step_summary_unwritable_is_a_warning_not_a_crash(
    cli: Cli, broken: list[str], project: Path
) -> None:
    result = cli(
        "validate",
        "-f",
        "github",
        *broken,
        env={"GITHUB_STEP_SUMMARY": str(project / "no" / "such" / "f.md")},
    )
    assert result.exit_code == 1
    assert "cannot write $GITHUB_STEP_SUMMARY" in result.stderr


def test_no_step_summary_without_the_variable(cli: Cli, broken: list[str], project: Path) -> None:
    result = cli("validate", "-f", "github", *broken)
    assert result.exit_code == 1 and result.stdout.startswith("::error "), result.output
    assert not [p for p in project.rglob("*") if p.suffix == ".md"]


def test_format_choices_are_the_registry(cli: Cli) -> None:
    from opsplay.cli.validate import ValidateFormat

    assert sorted(f.value for f in ValidateFormat) == sorted(FORMATTERS)
    assert cli("validate", "--format", "xml").exit_code == 2


def test_duplicate_findings_get_distinct_fingerprints() -> None:
    """Issue 19: the same rule at the same playbook path (or on two identical source lines)
    twice in a file: the repeat counter keeps their fingerprints apart, and stable."""
    from opsplay.formats import fingerprints

    error = Severity.ERROR
    twice = (
        Diagnostic("a.yaml", 3, 5, "OPS201", error, "owner `x` is not a role id", "nodes[0].owner"),
        Diagnostic("a.yaml", 9, 5, "OPS201", error, "owner `y` is not a role id", "nodes[0].owner"),
        Diagnostic("a.yaml", 4, 1, "OPS003", error, "tab", None),
        Diagnostic("a.yaml", 6, 1, "OPS003", error, "tab", None),
        Diagnostic("b.yaml", 3, 5, "OPS201", error, "owner `x` is not a role id", "nodes[0].owner"),
    )
    lines = ["apiVersion: opsplay/v1", "", "", "\tname: x", "", "\tname: x", "", "", ""]
    result = ValidationResult(2, twice, {"a.yaml": lines, "b.yaml": lines})
    prints = fingerprints(result)
    assert len(set(prints)) == len(prints) == 5
    assert prints == fingerprints(ValidationResult(2, twice, dict(result.sources)))
    document = json.loads(FORMATTERS["sarif"](result))
    sarif = [item["partialFingerprints"]["opsplay/v1"] for item in document["runs"][0]["results"]]
    assert sorted(sarif) == sorted(prints)
