"""Validate output formats, looked up by name: each turns a result into text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from urllib.parse import quote

from opsplay import __version__
from opsplay.diagnostics import RULES, Severity
from opsplay.i18n import N_, _, ngettext
from opsplay.registry import registrar
from opsplay.text import char_width, md_cell, visible
from opsplay.validate import ValidationResult

Formatter = Callable[[ValidationResult], str]
FORMATTERS: dict[str, Formatter] = {}
JSON_SCHEMA_VERSION = 1
SEVERITY_WORDS = {Severity.ERROR: N_("error"), Severity.WARNING: N_("warning")}


formatter = registrar(FORMATTERS)


def summary_line(result: ValidationResult) -> str:
    """`3 files checked: 1 error, 2 warnings`."""
    files = ngettext("{count} file checked", "{count} files checked", result.files)
    errors = ngettext("{count} error", "{count} errors", result.errors)
    warnings = ngettext("{count} warning", "{count} warnings", result.warnings)
    return _("{files}: {errors}, {warnings}").format(
        files=files.format(count=result.files),
        errors=errors.format(count=result.errors),
        warnings=warnings.format(count=result.warnings),
    )


@formatter("text")
def format_text(result: ValidationResult) -> str:
    """`file:line:col: severity RULE message`, the source line with a caret, then a summary."""
    blocks = []
    for d in result.diagnostics:
        severity = _(SEVERITY_WORDS[d.severity])
        block = [f"{visible(d.file)}:{d.line}:{d.column}: {severity} {d.rule} {d.message}"]
        lines = result.sources.get(d.file, [])
        if 0 < d.line <= len(lines):
            # Source lines are untrusted text: control characters never reach the terminal.
            source = visible(lines[d.line - 1].rstrip())
            # Wide (CJK) characters take two terminal columns, and a shown `\x1b` or
            # `<U+200B>` several; keep the caret under the column.
            prefix = visible(lines[d.line - 1][: d.column - 1])
            pad = "".join("\t" if ch == "\t" else " " * char_width(ch) for ch in prefix)
            block += [f"    {source}", f"    {pad}^"]
        blocks.append("\n".join(block))
    return "\n".join([*blocks, summary_line(result)]) + "\n"


@formatter("json")
def format_json(result: ValidationResult) -> str:
    """SPEC's JSON document, Chinese kept readable."""
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "files": result.files,
        "errors": result.errors,
        "warnings": result.warnings,
        "diagnostics": [
            {
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "rule": d.rule,
                "severity": d.severity.value,
                "message": d.message,
                "path": d.path,
            }
            for d in result.diagnostics
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


@formatter("github")
def format_github(result: ValidationResult) -> str:
    """GitHub Actions workflow commands (errors first), so findings annotate the diff."""
    ordered = sorted(result.diagnostics, key=lambda d: (d.severity is not Severity.ERROR, d))
    lines = [
        f"::{d.severity.value} file={_escape_property(d.file)},line={d.line},col={d.column},"
        f"title={_escape_property(d.rule)}::{_escape_data(d.message)}"
        for d in ordered
    ]
    return "\n".join([*lines, summary_line(result)]) + "\n"


def github_step_summary(result: ValidationResult) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY (GitHub shows only 10 error annotations per step)."""
    rows = [
        f"| `{md_cell(d.file)}:{d.line}:{d.column}` | {_(SEVERITY_WORDS[d.severity])} | {d.rule} "
        f"| {md_cell(d.message)} |"
        for d in result.diagnostics
    ]
    header = "| {} | {} | {} | {} |".format(_("where"), _("severity"), _("rule"), _("message"))
    table = [header, "|---|---|---|---|", *rows] if rows else []
    return "\n".join(["### opsplay validate", "", summary_line(result), "", *table]) + "\n"


def fingerprints(result: ValidationResult) -> list[str]:
    """One fingerprint per diagnostic, stable when lines move: file + playbook path + rule.

    Findings without a playbook path (YAML syntax, tabs, suppressions) are anchored on the text of
    their source line instead of its number; repeats of the same key are numbered so each is unique.
    """
    seen: dict[str, int] = {}
    found = []
    for d in result.diagnostics:
        anchor = d.path
        if not anchor:
            lines = result.sources.get(d.file, [])
            anchor = "line:" + (lines[d.line - 1].strip() if 0 < d.line <= len(lines) else "")
        key = f"{d.file}\0{anchor}\0{d.rule}"
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            key += f"\0{count}"
        found.append(hashlib.sha256(key.encode()).hexdigest())
    return found


@formatter("sarif")
def format_sarif(result: ValidationResult) -> str:
    """SARIF 2.1.0 for code-scanning uploads."""
    rule_ids = sorted(RULES)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    level = {Severity.ERROR: "error", Severity.WARNING: "warning"}
    prints = fingerprints(result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "opsplay",
                        "version": __version__,
                        "informationUri": "https://github.com/opsplay/opsplay",
                        "rules": [
                            {
                                "id": r,
                                "shortDescription": {"text": RULES[r].text},
                                "defaultConfiguration": {"level": level[RULES[r].severity]},
                            }
                            for r in rule_ids
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": d.rule,
                        "ruleIndex": index[d.rule],
                        "level": level[d.severity],
                        "message": {"text": d.message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": quote(d.file)},
                                    "region": {"startLine": d.line, "startColumn": d.column},
                                }
                            }
                        ],
                        "partialFingerprints": {"opsplay/v1": print_},
                    }
                    for d, print_ in zip(result.diagnostics, prints, strict=True)
                ],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
