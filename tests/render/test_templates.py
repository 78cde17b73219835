"""User templates: overriding and extending the shipped ones, the sandbox, and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplay.errors import TemplateError, UsageError
from opsplay.model.playbook import Playbook
from opsplay.render.sop import render_sop


def _user(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_extending_the_shipped_template_replaces_one_block(
    tmp_path: Path, onboarding: Playbook
) -> None:
    folder = _user(
        tmp_path,
        {
            "sop.md.j2": '{% extends "opsplay/sop.md.j2" %}\n'
            "{% block changelog %}## 自定义变更\n\n{% endblock %}\n"
        },
    )
    text = render_sop(onboarding, templates_dir=folder)
    assert "## 自定义变更" in text
    assert "## 变更记录" not in text
    assert "## 目的与目标" in text and text.startswith("---\ntitle: ")


def test_overriding_a_partial_by_name_reaches_the_shipped_template(
    tmp_path: Path, onboarding: Playbook
) -> None:
    folder = _user(tmp_path, {"_flowchart.mmd.j2": "flowchart LR\n    custom\n"})
    text = render_sop(onboarding, templates_dir=folder)
    assert "```mermaid\nflowchart LR\n    custom\n```" in text


def test_a_user_template_replaces_the_shipped_one_whole(
    tmp_path: Path, onboarding: Playbook
) -> None:
    folder = _user(
        tmp_path,
        {
            "sop.md.j2": "{{ playbook.metadata.id }} {{ _('Purpose and goal') }} "
            "{% trans %}Owner{% endtrans %} {{ playbook.metadata.status|label('status') }} "
            "{{ front_matter.title|yaml }}\n"
        },
    )
    # The same catalogue as the shipped templates: the document's language, Chinese here.
    assert (
        render_sop(onboarding, templates_dir=folder)
        == 'new-user-onboarding 目的与目标 负责人 试点 "新用户引导优化"\n'
    )
    assert render_sop(onboarding, templates_dir=folder, lang="en").startswith(
        "new-user-onboarding Purpose and goal Owner pilot "
    )


def test_a_template_written_for_the_old_word_table_is_told_what_to_use(
    tmp_path: Path, onboarding: Playbook
) -> None:
    folder = _user(tmp_path, {"sop.md.j2": "ok\n{{ t.h_goal }}\n"})
    with pytest.raises(TemplateError) as caught:
        render_sop(onboarding, templates_dir=folder)
    assert "sop.md.j2, line 2" in caught.value.message
    assert "_(" in caught.value.message


def test_html_templates_escape_and_markdown_templates_do_not(
    tmp_path: Path, onboarding: Playbook
) -> None:
    folder = _user(tmp_path, {"sop.md.j2": "{{ '<b>' }}", "sop.html.j2": "{{ '<b>' }}"})
    assert render_sop(onboarding, templates_dir=folder) == "<b>\n"
    assert render_sop(onboarding, templates_dir=folder, fmt="html") == "&lt;b&gt;\n"


def test_optional_fields_are_present_as_none(tmp_path: Path, onboarding: Playbook) -> None:
    folder = _user(
        tmp_path,
        {
            "sop.md.j2": "{{ playbook.nodes[1].next is none }} "
            "{{ playbook.metrics[0].numerator is none }}"
        },
    )
    assert render_sop(onboarding, templates_dir=folder) == "True True\n"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("line one\n{{ nope }}\n", "sop.md.j2, line 2: undefined variable: 'nope' is undefined"),
        (
            "\n\n{{ playbook.nope }}",
            "sop.md.j2, line 3: undefined variable: 'dict object' has no attribute 'nope'",
        ),
        ("{% if %}\n", "sop.md.j2, line 1: syntax error"),
        ("a\n{% for x in playbook.roles %}\n", "sop.md.j2, line 2: syntax error"),
        ('{% include "missing.j2" %}', "sop.md.j2, line 1: template `missing.j2` not found"),
        ("{{ 1 / 0 }}", "sop.md.j2, line 1: division by zero"),
    ],
)
def test_template_errors_name_file_line_and_variable(
    tmp_path: Path, onboarding: Playbook, template: str, expected: str
) -> None:
    folder = _user(tmp_path, {"sop.md.j2": template})
    with pytest.raises(TemplateError) as caught:
        render_sop(onboarding, templates_dir=folder)
    assert expected in caught.value.message
    assert str(folder / "sop.md.j2") in caught.value.message


def test_error_in_an_extended_shipped_block_names_the_user_file(
    tmp_path: Path, onboarding: Playbook
) -> None:
    folder = _user(
        tmp_path,
        {
            "sop.md.j2": '{% extends "opsplay/sop.md.j2" %}\n'
            "{% block roles %}\n{{ oops }}\n{% endblock %}"
        },
    )
    with pytest.raises(
        TemplateError, match=r"sop\.md\.j2, line 3: undefined variable: 'oops' is undefined"
    ):
        render_sop(onboarding, templates_dir=folder)


def test_a_template_extending_itself_is_explained(tmp_path: Path, onboarding: Playbook) -> None:
    folder = _user(tmp_path, {"sop.md.j2": '{% extends "sop.md.j2" %}\n'})
    with pytest.raises(TemplateError, match="extends the shipped one as `opsplay/sop.md.j2`"):
        render_sop(onboarding, templates_dir=folder)


def test_missing_templates_folder_is_a_usage_error(tmp_path: Path, onboarding: Playbook) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        render_sop(onboarding, templates_dir=tmp_path / "absent")


ESCAPES = [
    "{{ playbook.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ playbook|attr('__class__') }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ '{0.__class__.__mro__}'.format(playbook) }}",
    "{{ '{0.__init__.__globals__}'.format(cycler) }}",
    "{{ '{x.__class__}'.format_map({'x': playbook}) }}",
    "{{ playbook.metadata.update({'id': 'pwned'}) }}",
    "{{ _.__globals__ }}",
    "{{ playbook.roles.append(1) }}",
    "{{ playbook.roles.pop() }}",
    "{% set fmt = '{0.__class__.__mro__}'.format %}{{ fmt(playbook) }}",  # CVE-2024-56326
    "{{ ('{0.__class__}'.format_map)({'0': 1}) }}",
    "{{ range.__self__ }}",
    "{{ range(10**9)|list|length }}",
]


@pytest.mark.parametrize("attack", ESCAPES)
def test_sandbox_blocks_known_escapes(tmp_path: Path, onboarding: Playbook, attack: str) -> None:
    folder = _user(tmp_path, {"sop.md.j2": "ok\n" + attack + "\n"})
    with pytest.raises(TemplateError) as caught:
        render_sop(onboarding, templates_dir=folder)
    assert "sop.md.j2, line 2" in caught.value.message
    assert "uid=" not in caught.value.message


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/passwd", "..\\secret.j2"])
def test_templates_cannot_be_read_from_outside_the_folders(
    tmp_path: Path, onboarding: Playbook, name: str
) -> None:
    folder = _user(tmp_path, {"sop.md.j2": '{% include "' + name.replace("\\", "\\\\") + '" %}'})
    with pytest.raises(TemplateError, match="not found"):
        render_sop(onboarding, templates_dir=folder)


def test_templates_receive_plain_data_not_models(tmp_path: Path, onboarding: Playbook) -> None:
    folder = _user(
        tmp_path,
        {
            "sop.md.j2": "{{ playbook is mapping }} {{ playbook.metadata.updated is string }} "
            "{{ playbook.nodes[0].sla }}"
        },
    )
    assert render_sop(onboarding, templates_dir=folder) == "True True 实时\n"


HOSTILE = [
    '{{ "x" * 10**9 }}',
    "{{ [0] * 10**9 }}",
    '{{ "".center(10**9) }}',
    '{{ "x".ljust(10**9) }}{{ "x".zfill(10**9) }}',
    '{{ "\\t".expandtabs(10**9) }}',
    '{{ "a"|center(10**9) }}',
    '{{ "a\\nb"|indent(10**9) }}',
    "{{ lipsum(10**9) }}",
    "{{ lipsum(5, max=10**9) }}",
    '{{ "{:>1000000000}".format(1) }}',
    '{{ "{x:>1000000000}".format_map({"x": 1}) }}',
    '{{ "%1000000000s"|format(1) }}',
    '{{ "%1000000000s" % 1 }}',
    '{{ ("x" * 1000000)|replace("", "yy") }}',
    '{{ ("x" * 1000000).replace("x", "yy") }}',
    '{{ ([1] * 1000)|join("x" * 100000) }}',
    '{{ ("x" * 100000).join(range(1000)|map("string")) }}',
    "{{ 3 ** (10**8) }}",
    '{% set ns = namespace(s="x") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}'
    "{% endfor %}{{ ns.s|length }}",
    '{% macro grow(s) %}{{ grow(s ~ s) }}{% endmacro %}{{ grow("x") }}',
    '{% for i in range(100000) %}{{ "x" * 1000 }}{% endfor %}',
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}",
    '{% set s = "x" * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}',
]


@pytest.mark.parametrize("attack", HOSTILE)
def test_templates_run_within_time_and_size_budgets(
    tmp_path: Path, onboarding: Playbook, attack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resource
    import time

    from opsplay.render import budget

    monkeypatch.setattr(budget, "MAX_SECONDS", 1.0)
    folder = _user(tmp_path, {"sop.md.j2": "ok\n" + attack + "\n"})
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        render_sop(onboarding, templates_dir=folder)
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert grown_mb < 200, f"{grown_mb:.0f} MB more memory"
    message = caught.value.message
    assert "sop.md.j2" in message
    assert any(word in message for word in ("limit", "longer than", "loop", "memory")), message


def test_a_budget_message_speaks_the_document_language(
    tmp_path: Path, onboarding: Playbook
) -> None:
    from opsplay.i18n import language

    folder = _user(tmp_path, {"sop.md.j2": 'ok\n{{ "x" * 10**9 }}\n'})
    with language("zh"), pytest.raises(TemplateError) as caught:
        render_sop(onboarding, templates_dir=folder)
    assert "sop.md.j2，第 2 行" in caught.value.message  # the position in Chinese too
    assert "上限" in caught.value.message


def test_range_still_behaves_like_a_sequence(tmp_path: Path, onboarding: Playbook) -> None:
    folder = _user(
        tmp_path,
        {
            "sop.md.j2": "{{ range(5)|length }} {{ range(5)[2] }} {{ range(3)|list }} "
            "{% for i in range(3) %}{{ loop.length }}{{ i }}{% endfor %} {{ range(10)|sum }}"
        },
    )
    assert render_sop(onboarding, templates_dir=folder) == "5 2 [0, 1, 2] 303132 45\n"
