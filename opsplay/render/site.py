"""`render-sop --site DIR`: a complete MkDocs project of the SOPs (and review reports).

Layout of the project:

    DIR/mkdocs.yml                 site name, theme, navigation (every page listed)
    DIR/docs/index.md              home page: every SOP grouped by status, with its stages,
                                   scenarios, owner, version, update date and report
    DIR/docs/sop/<id>.md           one SOP page per playbook (the Markdown SOP)
    DIR/docs/reports/<id>.md       the review report of a playbook, when `--report` gives one
    DIR/docs/assets/opsplay.css    keeps wide flowcharts inside the page
    DIR/docs/assets/opsplay-search.js  Chinese sites: search finds words inside sentences

The pages keep the Markdown SOP's words but carry the flowchart drawn as inline SVG
instead of the Mermaid block: MkDocs shows Mermaid only with a script from the network,
the SVG shows offline. `mkdocs build --strict` passes on the project as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import N_, _, language, ngettext, translate
from opsplay.text import (
    TEMPLATE_OPENER,
    by_pinyin,
    link_brackets,
    md_cell,
    md_line,
    theme_safe,
    visible,
)

# Lifecycle order of the home page's groups, most in force first.
STATUSES = {
    "active": N_("active"),
    "rollout": N_("rollout"),
    "pilot": N_("pilot"),
    "draft": N_("draft"),
    "retired": N_("retired"),
}
_MERMAID = re.compile(r"^```mermaid\n.*?^```[ \t]*\n", re.S | re.M)
STYLESHEET = """\
/* opsplay: wide flowcharts and charts scale down to the page instead of overflowing it */
.opsplay-flowchart svg, .opsplay-chart svg { max-width: 100%; height: auto; }
.opsplay-flowchart, .opsplay-chart { margin: 1em 0; overflow-x: auto; }
/* Chinese text may break after any character: a narrow column would stack its header one
   character per line, so headers, versions and dates keep to one line and wide tables scroll */
.col-md-9 { overflow-x: auto; }
table th { white-space: nowrap; }
.opsplay-home td:nth-child(n+5) { white-space: nowrap; }
.opsplay-home td:first-child { min-width: 8em; }
.opsplay-home td:nth-child(4) { min-width: 5em; }
"""
# MkDocs theme locales by playbook language.
THEME_LOCALES = {"zh": "zh_CN", "en": "en"}
# The search plugin of MkDocs' own theme (lunr) and Chinese: lunr splits a query on spaces only
# and looks each word up whole, so no word segmentation can work (lunr's zh needs Node's jieba;
# the TinySegmenter of `ja` cuts the pages into words a query is not cut into: 售后退款 and
# 时限达标率 found nothing). The pages are instead kept as runs of text between punctuation
# (`separator`; `zh` with `en` keeps Chinese characters and English stemming, the tokenizer
# stays lunr's own), the page script below turns a Chinese query word into `*word*`, which
# lunr matches inside those runs, and `min_search_length: 2` searches two-character words.
SEARCH_PLUGINS = {
    "zh": {
        "lang": ["zh", "en"],
        "separator": r"[\s\-，。、；：！？（）【】《》「」『』“”‘’…·]+",
        "min_search_length": 2,
    },
    "en": {"lang": ["en"]},
}
SEARCH_SCRIPT = """\
// opsplay: MkDocs' search finds a Chinese word wherever it stands in a sentence. The index
// keeps each run of Chinese text between punctuation as one token (`separator` in mkdocs.yml);
// a query word with Chinese characters becomes `*word*`, which lunr matches inside those
// tokens. Latin words are searched as MkDocs searches them.
var opsplaySearchQuery = function (query) {
  return query
    .split(/[\\s\\-]+/)
    .map(function (word) {
      return /[\\u3400-\\u9fff\\uf900-\\ufaff]/.test(word) && word.indexOf("*") < 0
        ? "*" + word + "*"
        : word;
    })
    .join(" ");
};
if (window.Worker) {
  (function (post) {
    Worker.prototype.postMessage = function (message) {
      if (message && typeof message.query === "string") {
        arguments[0] = { query: opsplaySearchQuery(message.query) };
      }
      return post.apply(this, arguments);
    };
  })(Worker.prototype.postMessage);
}
"""


def _no_template(svg: str) -> str:
    """Inline SVG with no `{{`, `{%`, `{#` (mkdocs-macros would run them): `{` as an entity."""
    return TEMPLATE_OPENER.sub("&#123;", svg)


def with_drawn_flowchart(page: str, svg: str) -> str:
    """The Markdown page with its Mermaid block replaced by the SVG (raw HTML block)."""
    block = f'<div class="opsplay-flowchart">\n{_no_template(svg)}\n</div>\n'
    return _MERMAID.sub(lambda _match: block, page, count=1)


def _by_title(playbook: Any) -> tuple[tuple[str, ...], str]:
    return by_pinyin(playbook.metadata.title), playbook.metadata.id


def with_chart(page: str, chart: str) -> str:
    """The Markdown report with its chart (inline SVG) above Table 3, as the HTML report has it."""
    if not chart:
        return page
    block = f'<div class="opsplay-chart">\n{_no_template(chart)}\n</div>\n\n'
    lines = page.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("## ") and index and _TABLE3.search(line):
            return "".join([*lines[:index], block, *lines[index:]])
    return page


_TABLE3 = re.compile(r"^## (表3|Table 3)")


def _link_text(text: str) -> str:
    """Text safe inside `[…](…)` in a table cell."""
    return link_brackets(md_line(text), always=True)


def build_site(
    paths: Sequence[Path],
    *,
    lang: str | None = None,
    templates_dir: Path | None = None,
    reports: Sequence[Path] = (),
) -> dict[str, str]:
    """Every file of the MkDocs project (relative name → text)."""
    from opsplay.config import find_config
    from opsplay.render.flowchart import flowchart_svg
    from opsplay.render.sop import check_lang, flow, playbook_data, render_sop_files
    from opsplay.validate import discover, load_playbook

    pages = render_sop_files(paths, fmt="md", lang=lang, templates_dir=templates_dir)
    playbooks: dict[str, Any] = {}
    files: dict[str, str] = {}
    for path in discover(list(paths)):
        config = find_config(path.parent)
        playbook = load_playbook(path, config)
        playbooks[playbook.metadata.id] = playbook
        language_of_page = check_lang(lang, playbook)
        data = playbook_data(playbook, config.realtime_seconds)
        svg = flowchart_svg(flow(data), lang=language_of_page, title=playbook.metadata.title)
        files[f"docs/sop/{playbook.metadata.id}.md"] = with_drawn_flowchart(
            pages[playbook.metadata.id + ".md"], str(svg)
        )
    reported = _reports(reports, playbooks, lang, templates_dir)
    files.update({f"docs/reports/{key}.md": text for key, text in reported.items()})
    site_lang = lang or _majority_language(playbooks.values())
    files["docs/index.md"] = home_page(list(playbooks.values()), set(reported), site_lang)
    files["docs/assets/opsplay.css"] = STYLESHEET
    if site_lang == "zh":
        files["docs/assets/opsplay-search.js"] = SEARCH_SCRIPT
    files["mkdocs.yml"] = mkdocs_config(list(playbooks.values()), sorted(reported), site_lang)
    return files


def _majority_language(playbooks: Any) -> str:
    """The language most playbooks are written in; Chinese on a tie (as the SOP index)."""
    languages = [playbook.language for playbook in playbooks]
    return "en" if languages.count("en") * 2 > len(languages) else "zh"


def _reports(
    reports: Sequence[Path],
    playbooks: dict[str, Any],
    lang: str | None,
    templates_dir: Path | None,
) -> dict[str, str]:
    """Review report pages by playbook id, from saved `pilot compare --format json` results."""
    from opsplay.render.report import load_comparison, render_report, report_context
    from opsplay.render.sop import check_lang

    pages: dict[str, str] = {}
    for path in reports:
        comparison = load_comparison(path)
        playbook_id = str((comparison.get("playbook") or {}).get("id") or "")
        if not playbook_id:
            raise InputError(
                _(
                    "{path}: the comparison does not say which playbook it is for "
                    "(`playbook.id`); save it with `opsplay pilot compare --format json`"
                ).format(path=path)
            )
        if playbook_id not in playbooks:
            raise InputError(
                _(
                    "{path}: the comparison is for playbook `{id}`, which is not among "
                    "the playbooks given; add its file to the PATH arguments"
                ).format(path=path, id=playbook_id)
            )
        if playbook_id in pages:
            raise InputError(
                _("{path}: a second comparison for playbook `{id}`; give one per playbook").format(
                    path=path, id=playbook_id
                )
            )
        page = render_report(
            playbooks[playbook_id], comparison, lang=lang, fmt="md", templates_dir=templates_dir
        )
        language_of_page = check_lang(lang, playbooks[playbook_id])
        chart = report_context(
            playbooks[playbook_id], comparison, lang=language_of_page, fmt="html"
        )
        pages[playbook_id] = with_chart(page, str(chart["chart"]))
    return pages


def home_page(playbooks: list[Any], reported: set[str], lang: str) -> str:
    """The home page: every SOP grouped by status, linking to its page and report."""
    from opsplay.labels import listing
    from opsplay.render.filters import date

    def t(message: str) -> str:
        return translate(message, lang)

    title = t(N_("Operations playbooks (SOP)"))
    lines = [
        "---",
        f"title: {_yaml_text(title)}",
        "render_macros: false",  # mkdocs-macros: no page is template code (sop.front_matter)
        "---",
        "",
        f"# {md_cell(title)}",
        "",
        _count_line(len(playbooks), lang),
        "",
    ]
    header = [
        t(N_("SOP")),
        t(N_("Stages")),
        t(N_("Scenarios")),
        t(N_("Owner")),
        t(N_("Version")),
        t(N_("Updated")),
        t(N_("Review report")),
    ]
    ordered = sorted(playbooks, key=_by_title)
    for status, word in STATUSES.items():
        group = [p for p in ordered if p.metadata.status == status]
        if not group:
            continue
        lines += [
            "## " + t(N_("{status} ({count})")).format(status=t(word), count=len(group)),
            "",
            '<div class="opsplay-home" markdown>',
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for playbook in group:
            meta = playbook.metadata
            owner = next((r.name for r in playbook.roles if r.id == meta.owner), meta.owner)
            stages = playbook.scope.stages if playbook.scope else []
            report = (
                f"[{t(N_('Review report'))}](reports/{meta.id}.md)" if meta.id in reported else "—"
            )
            cells = [
                f"[{_link_text(meta.title)}](sop/{meta.id}.md)",
                md_cell(listing(stages, lang=lang)),
                md_cell(listing([s.name for s in playbook.scenarios], lang=lang)),
                md_cell(owner),
                md_cell(meta.version),
                date(meta.updated, lang=lang),
                report,
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "</div>", ""]
    return "\n".join(lines)


def _count_line(count: int, lang: str) -> str:
    with language(lang):
        return ngettext(
            "{count} SOP, grouped by status; each page has the flowchart of the process.",
            "{count} SOPs, grouped by status; each page has the flowchart of the process.",
            count,
        ).format(count=count)


def mkdocs_config(playbooks: list[Any], reported: list[str], lang: str) -> str:
    """mkdocs.yml: the site name, the default theme without network fonts or scripts, the nav."""
    import yaml

    def t(message: str) -> str:
        return translate(message, lang)

    ordered = sorted(playbooks, key=_by_title)
    # MkDocs themes print nav titles (and the page <title>) as raw HTML, some through
    # `striptags`, which undoes entities; mkdocs-macros renders them: no markup, no `{{`.
    titles = {p.metadata.id: theme_safe(visible(p.metadata.title)) for p in playbooks}
    nav: list[dict[str, Any]] = [
        {t(N_("Operations playbooks (SOP)")): "index.md"},
        {t(N_("SOP")): [{titles[p.metadata.id]: f"sop/{p.metadata.id}.md"} for p in ordered]},
    ]
    if reported:
        nav.append(
            {
                t(N_("Review reports")): [
                    {titles[key]: f"reports/{key}.md"}
                    for key in sorted(reported, key=lambda key: (by_pinyin(titles[key]), key))
                ]
            }
        )
    config = {
        "site_name": t(N_("Operations playbooks (SOP)")),
        "docs_dir": "docs",
        "use_directory_urls": True,
        # highlight.js would come from a CDN; the pages need no code highlighting
        "theme": {
            "name": "mkdocs",
            "highlightjs": False,
            "locale": THEME_LOCALES.get(lang, "en"),
        },
        "plugins": [{"search": SEARCH_PLUGINS.get(lang, SEARCH_PLUGINS["en"])}],
        "markdown_extensions": [
            # Heading ids from the heading's own letters (生效2, not 2): an id of digits only is
            # no valid CSS selector, and the theme's script stops on it, leaving tables unstyled.
            {"toc": {"slugify": _Slugify()}},
            "tables",
            "md_in_html",  # the home page's tables sit in a styled <div>
        ],
        "extra_css": ["assets/opsplay.css"],
        **({"extra_javascript": ["assets/opsplay-search.js"]} if lang == "zh" else {}),
        "nav": nav,
    }
    header = "# " + t(
        N_("Written by `opsplay render-sop --site`; build it with `mkdocs build --strict`.")
    )
    return (
        header
        + "\n"
        + yaml.dump(
            config,
            Dumper=_config_dumper(),
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=1000,
        )
    )


class _Slugify:
    """Stands for Python-Markdown's own Unicode slug function in mkdocs.yml."""


def _config_dumper() -> Any:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(
        _Slugify,
        lambda dumper, _value: dumper.represent_scalar(
            "tag:yaml.org,2002:python/name:markdown.extensions.toc.slugify_unicode", ""
        ),
    )
    return Dumper


def _yaml_text(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
