"""The documentation in docs/ stays true: generated parts current, claims checked, links whole."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tools import docs

DOCS = docs.ROOT / "docs"


def test_format_page_is_generated_from_the_current_models() -> None:
    assert docs.FORMAT.read_text("utf-8") == docs.generate(), (
        "docs/format.md is stale: run python tools/docs.py"
    )


def test_format_page_covers_every_key_and_rule() -> None:
    from opsplay.diagnostics import RULES
    from opsplay.schema import playbook_schema

    text = docs.FORMAT.read_text("utf-8")
    schema = playbook_schema()
    for name, definition in schema["definitions"].items():
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        for key in definition.get("properties", {}):
            assert f"| `{key}` |" in section, (name, key)
    for rule_id in RULES:
        assert f"| `{rule_id}` |" in text


def test_every_command_is_documented() -> None:
    import typer.main

    from opsplay.cli import app

    group = typer.main.get_command(app)
    text = (DOCS / "commands.md").read_text("utf-8")

    def names(command: object, prefix: str) -> list[str]:
        children = getattr(command, "commands", None)
        if not children:
            return [prefix]
        return [n for key, child in children.items() for n in names(child, f"{prefix} {key}")]

    for name in names(group, "opsplay"):
        assert f"`{name} " in text or f"`{name}`" in text, (
            f"{name} is missing from docs/commands.md"
        )


def test_readme_points_to_the_docs_not_to_an_outside_specification() -> None:
    readme = (docs.ROOT / "README.md").read_text("utf-8")
    assert "SPEC" not in readme
    assert "docs/index.md" in readme and "docs/statistics.md" in readme


def test_relative_links_resolve() -> None:
    checked = 0
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text("utf-8")):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"
            checked += 1
    assert checked >= 5, "the docs link to each other; no link found means the pattern broke"


def test_docs_build_as_a_strict_mkdocs_site(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        f"site_name: opsplay\ndocs_dir: {DOCS}\nsite_dir: {tmp_path / 'site'}\n"
        "validation: {anchors: warn}\n",
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr


def _cells(rng: np.random.Generator, kind: str) -> dict[tuple[int, int], np.ndarray]:
    sizes = {(0, 0): 400, (0, 1): 350, (1, 0): 500, (1, 1): 450}
    cells = {}
    for (pilot, after), n in sizes.items():
        if kind == "mean":
            cells[(pilot, after)] = rng.normal(
                10 + pilot + 2 * after + 1.5 * pilot * after, 3 + pilot, n
            )
        else:
            share = 0.3 + 0.05 * pilot + 0.05 * after + 0.04 * pilot * after
            cells[(pilot, after)] = (rng.random(n) < share).astype(float)
    return cells


@pytest.mark.parametrize(("kind", "cov_type"), [("mean", "HC2"), ("proportion", "HC0")])
def test_did_standard_error_is_ols_robust_as_documented(kind: str, cov_type: str) -> None:
    statsmodels = pytest.importorskip("statsmodels.api")
    from opsplay.pilot.stats import difference_in_differences
    from opsplay.query.sufficient import ArmStats

    assert f"exactly **{cov_type}** for {kind}" in (DOCS / "statistics.md").read_text("utf-8")
    cells = _cells(np.random.default_rng(11), kind)

    def arm(values: np.ndarray) -> ArmStats:
        return ArmStats(len(values), float(values.sum()), float((values**2).sum()))

    result = difference_in_differences(
        arm(cells[(0, 0)]), arm(cells[(0, 1)]), arm(cells[(1, 0)]), arm(cells[(1, 1)]), kind
    )
    y = np.concatenate(list(cells.values()))
    pilot = np.concatenate([[key[0]] * len(v) for key, v in cells.items()])
    after = np.concatenate([[key[1]] * len(v) for key, v in cells.items()])
    design = statsmodels.add_constant(np.column_stack([pilot, after, pilot * after]))
    fit = statsmodels.OLS(y, design).fit(cov_type=cov_type)
    assert result.abs_diff == pytest.approx(fit.params[3], abs=1e-12)
    assert result.se_abs == pytest.approx(fit.bse[3], rel=1e-10)


def test_readme_examples_show_what_the_commands_print() -> None:
    """Each README block marked `<!-- example: … -->` is what running its command prints now."""
    from tools import readme_examples

    text = readme_examples.README.read_text("utf-8")
    assert len(readme_examples.MARKER.findall(text)) >= 4
    assert readme_examples.generate(text) == text, (
        "README.md examples are stale: run python tools/readme_examples.py"
    )


def test_readme_robot_message_is_what_a_robot_receives() -> None:
    """The README's robot-message sample is made by running `watch` against a stand-in robot
    (`; robot: dingtalk`), so its figures, version and @-mentions cannot go stale."""
    from tools import readme_examples

    text = readme_examples.README.read_text("utf-8")
    robots = [m for m in readme_examples.MARKER.finditer(text) if m.group("robot")]
    assert [m.group("robot") for m in robots] == ["dingtalk"]
    body = robots[0].group("body")
    assert '--notify "$DINGTALK_URL"' in body.splitlines()[0]
    assert "msgtype: markdown" in body and "超时工单（共 2 单）：GD-1009-01、GD-1013-02" in body
    assert '"atMobiles": ["13800138000", "13911112222"]' in body
    # the version is the playbook's, as the message says it
    assert "版本 1.0.0" in body and "版本 1.2.0" not in body


def test_readme_command_table_lists_every_command() -> None:
    import typer.main

    from opsplay.cli import app

    readme = (docs.ROOT / "README.md").read_text("utf-8")
    table = readme.split("## Commands", 1)[1].split("\n\n", 2)[1]
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        children = getattr(command, "commands", None) or {None: None}
        for child in children:
            shown = f"`opsplay {name}" + (f" {child}" if child else "")
            assert shown in table, f"{shown.strip('`')} is missing from the README's command table"
    for words in ("--site", "docx", "watch", "history"):
        assert words in table, words


def test_readme_configuration_block_lists_every_setting_and_reads(tmp_path: Path) -> None:
    """The README's `[tool.opsplay]` example names every project setting (timezone, calendar
    and workday_limits too) and is a configuration opsplay accepts as written."""
    from opsplay.config import KNOWN_KEYS, find_config

    readme = (docs.ROOT / "README.md").read_text("utf-8")
    block = readme.split("```toml\n[tool.opsplay]\n", 1)[1].split("```", 1)[0]
    for key in sorted(KNOWN_KEYS):
        written = re.search(rf"^{key} = ", block, re.M) or f"[tool.opsplay.{key}]" in readme
        assert written, f"`{key}` is missing from the README's configuration block"
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.opsplay]\n" + block, "utf-8")
    config = find_config(tmp_path)
    assert (config.timezone, config.calendar, config.workday_limits) == (
        "Asia/Shanghai",
        "official",
        "day_end",
    )


def test_readme_says_how_wecom_robots_are_sent() -> None:
    """WeCom gets `text` when a message @-mentions someone (its markdown cannot mention), and
    robots are set with --notify only (the playbook has no webhook key)."""
    readme = (docs.ROOT / "README.md").read_text("utf-8")
    row = next(line for line in readme.splitlines() if "qyapi.weixin.qq.com" in line)
    assert "`text` with `mentioned_list`" in row
    assert "only on the command line, `--notify URL`" in readme
