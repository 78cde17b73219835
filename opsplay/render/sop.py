"""SOP documents: the playbook as plain data for the templates, and one document per playbook."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsplay.errors import InputError, UsageError
from opsplay.i18n import LANGUAGES, _
from opsplay.labels import label_of
from opsplay.model.playbook import Playbook
from opsplay.render.environment import get_renderer
from opsplay.render.process import process_data

# Output formats by name: file suffix of the documents. The CLI's --format choices
# (opsplay.cli.choices.DocumentFormat) mirror these names; a test keeps them equal.
FORMATS: dict[str, str] = {"md": ".md", "html": ".html"}


@dataclass(frozen=True)
class Source:
    """Where a playbook came from, as written into the documents (never an absolute path)."""

    path: str
    sha256: str


def project_path(path: Path) -> str:
    """The path relative to its project (the nearest folder with .git or pyproject.toml)."""
    resolved = path.resolve()
    for folder in resolved.parents:
        if any(
            (folder / marker).exists() for marker in (".git", "pyproject.toml", ".opsplay.toml")
        ):
            return resolved.relative_to(folder).as_posix()
    return resolved.name


def source_of(path: Path) -> Source:
    """Source of a playbook file: its project-relative path and the sha256 of its bytes."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise InputError(
            _("{path}: cannot read the file: {reason}").format(path=path, reason=error.strerror)
        ) from None
    return Source(project_path(path), digest)


def check_format(fmt: str) -> str:
    """The format name, or a UsageError listing the known ones."""
    if fmt not in FORMATS:
        raise UsageError(
            _("unknown format `{format}`; use one of: {known}").format(
                format=fmt, known=", ".join(FORMATS)
            )
        )
    return fmt


def check_lang(lang: str | None, playbook: Playbook | None = None) -> str:
    """The document language: `lang` when given, else the playbook's."""
    if lang is None:
        return playbook.language if playbook is not None else "zh"
    if lang not in LANGUAGES:
        raise UsageError(
            _("unknown language `{lang}`; use one of: {known}").format(
                lang=lang, known=", ".join(LANGUAGES)
            )
        )
    return lang


def playbook_data(playbook: Playbook, realtime_seconds: float = 1.0) -> dict[str, Any]:
    """The playbook as plain JSON data, optional fields present as None, plus computed extras.

    Extras: metrics carry every field of every kind; nodes carry `position`, `mid` (ASCII
    Mermaid id), `owner_name`, `sla_seconds`, `sla_realtime` and `successors`; alerts
    carry `subject`, `subject_name`, `value_kind`, `unit`, `acting` and `acting_name`.
    """
    data = playbook.model_dump(mode="json", by_alias=True)
    roles = {role["id"]: role for role in data["roles"]}
    for metric in data["metrics"]:
        for key in ("column", "numerator", "denominator", "unit"):
            metric.setdefault(key, None)
    metrics = {metric["id"]: metric for metric in data["metrics"]}
    nodes = data["nodes"]
    for position, (node, model) in enumerate(zip(nodes, playbook.nodes, strict=True), start=1):
        node["position"] = position
        node["mid"] = f"n{position}"
        node["owner_name"] = _name(roles, node["owner"])
        node["sla_seconds"] = model.sla.resolve(realtime_seconds) if model.sla else None
        node["sla_realtime"] = bool(model.sla and model.sla.realtime)
        node["fallbacks"] = [fallback.model_dump(mode="json") for fallback in model.fallbacks]
        if node["next"] is not None:
            node["successors"] = list(node["next"])
        else:
            node["successors"] = [nodes[position]["id"]] if position < len(nodes) else []
    by_node = {node["id"]: node for node in nodes}
    for alert in data["alerts"]:
        if alert["node"] is not None:
            node = by_node.get(alert["node"], {})
            alert["subject"] = "node"
            alert["subject_name"] = node.get("name", alert["node"])
            alert["value_kind"] = "seconds" if alert["measure"] in ("p50_s", "p95_s") else "rate"
            alert["unit"] = None
            acting = alert["owner"] or node.get("owner") or data["metadata"]["owner"]
        else:
            metric = metrics.get(alert["metric"], {})
            alert["subject"] = "metric"
            alert["subject_name"] = metric.get("name", alert["metric"])
            alert["value_kind"] = metric.get("kind")
            alert["unit"] = metric.get("unit")
            acting = alert["owner"] or data["metadata"]["owner"]
        alert["acting"] = acting
        alert["acting_name"] = _name(roles, acting)
    for scenario in data["scenarios"]:
        for expected in scenario["expected"]:
            _describe_metric(expected, metrics)
    _describe_metric(data["goal"], metrics)
    for finding in (data["review"] or {}).get("findings", []):
        _describe_metric(finding, metrics)
    if data["pilot"] is not None:
        data["pilot"]["metric_names"] = [
            metrics[m]["name"] if m in metrics else m for m in data["pilot"]["metrics"]
        ]
        data["pilot"]["guardrail_names"] = [
            metrics[m]["name"] if m in metrics else m for m in data["pilot"]["guardrails"]
        ]
    data["metadata"]["owner_name"] = _name(roles, data["metadata"]["owner"])
    data["language"] = playbook.language
    return data


def _name(roles: dict[str, dict[str, Any]], role_id: str) -> str:
    role = roles.get(role_id)
    return role["name"] if role else role_id


def _describe_metric(item: dict[str, Any], metrics: dict[str, dict[str, Any]]) -> None:
    metric = metrics.get(item["metric"], {})
    item["metric_name"] = metric.get("name", item["metric"])
    item["kind"] = metric.get("kind")
    item["unit"] = metric.get("unit")


def flow(data: dict[str, Any]) -> dict[str, Any]:
    """The process graph for the Mermaid flowchart: nodes in order, `next` and fallback edges.

    A fallback with `goto` is a dashed edge to that node; one without is a dashed edge
    to a small node holding its action. Each escalation step is a dashed edge, labelled
    with its wait, to a small node naming the role. Nodes that end the process point to
    an end node.
    """
    mids = {node["id"]: node["mid"] for node in data["nodes"]}
    roles_by_id = {role["id"]: role for role in data["roles"]}
    graph_nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    ends = False
    for node in data["nodes"]:
        graph_nodes.append(
            {"mid": node["mid"], "shape": "process", "node": node, "text": node["name"]}
        )
        for successor in node["successors"]:
            edges.append(
                {"source": node["mid"], "target": mids[successor], "kind": "next", "triggers": []}
            )
        if not node["successors"]:
            ends = True
            edges.append({"source": node["mid"], "target": "done", "kind": "next", "triggers": []})
        for index, fallback in enumerate(node["fallbacks"]):
            if fallback["goto"] in mids:
                target = mids[fallback["goto"]]
            else:
                target = node["mid"] + "f" + (str(index + 1) if index else "")
                graph_nodes.append(
                    {"mid": target, "shape": "fallback", "node": node, "text": fallback["action"]}
                )
            edges.append(
                {
                    "source": node["mid"],
                    "target": target,
                    "kind": "fallback",
                    "triggers": fallback["when"],
                }
            )
        # An escalation step is a dashed edge, labelled with its wait, to the role it goes to.
        for index, step in enumerate(_ladder_steps(node.get("escalation")), start=1):
            target = f"{node['mid']}e{index}"
            name = roles_by_id.get(step["to"], {}).get("name", step["to"])
            graph_nodes.append(
                {
                    "mid": target,
                    "shape": "escalation",
                    "node": node,
                    "text": name,
                    "action": step.get("action"),
                }
            )
            edges.append(
                {
                    "source": node["mid"],
                    "target": target,
                    "kind": "escalation",
                    "triggers": [],
                    "after": step["after"],
                    "level": step.get("level"),
                }
            )
    if ends:
        graph_nodes.append({"mid": "done", "shape": "end", "node": None, "text": None})
    return {"nodes": graph_nodes, "edges": edges}


def front_matter(data: dict[str, Any], source: Source | None, lang: str) -> dict[str, Any]:
    """What a knowledge base indexes, in a fixed order (values are plain JSON)."""
    meta = data["metadata"]
    scope = data["scope"]
    return {
        "title": meta["title"],
        "description": data["goal"]["statement"],
        "id": meta["id"],
        "version": meta["version"],
        "status": meta["status"],
        # the machine value above stays as written for tools; the label is the document's word
        "status_label": label_of("status", meta["status"], lang),
        "owner": meta["owner"],
        "owner_name": meta["owner_name"],
        "scenarios": [scenario["name"] for scenario in data["scenarios"]],
        "scope": None
        if scope is None
        else {
            "segments": scope["segments"],
            "stages": scope["stages"],
            "period": scope["period"],
        },
        "updated": meta["updated"],
        "tags": meta["tags"],
        "lang": lang,  # the language the document is written in (--lang or the playbook's)
        # The playbook file the document comes from. Not `source`: MkDocs themes read a
        # page's `source` as a list of files and show each character as a link.
        "playbook": source.path if source else None,
        "sha256": source.sha256 if source else None,
    }


def sop_context(
    playbook: Playbook,
    *,
    lang: str,
    fmt: str,
    source: Source | None = None,
    realtime_seconds: float = 1.0,
) -> dict[str, Any]:
    """Everything an SOP template receives (plain data; see templates/README.md)."""
    data = playbook_data(playbook, realtime_seconds)
    graph = flow(data)
    return {
        "lang": lang,
        "format": fmt,
        "playbook": data,
        "source": {"path": source.path, "sha256": source.sha256} if source else None,
        "front_matter": front_matter(data, source, lang),
        "roles_by_id": {role["id"]: role for role in data["roles"]},
        "metrics_by_id": {metric["id"]: metric for metric in data["metrics"]},
        "nodes_by_id": {node["id"]: node for node in data["nodes"]},
        "flow": graph,
        "flowchart_svg": drawn_flowchart(graph, data, lang) if fmt == "html" else None,
        "realtime_seconds": realtime_seconds,
        "process": process_data(playbook, lang),  # SPEC 8: levels, ladders, RACI, schedules
    }


def drawn_flowchart(graph: dict[str, Any], data: dict[str, Any], lang: str) -> Any:
    """The flowchart as inline SVG (opsplay.render.flowchart), for HTML documents."""
    from opsplay.render.flowchart import flowchart_svg

    return flowchart_svg(graph, lang=lang, title=data["metadata"]["title"])


def render_sop(
    playbook: Playbook,
    *,
    lang: str | None = None,
    fmt: str = "md",
    templates_dir: Path | None = None,
    source: Source | None = None,
    realtime_seconds: float = 1.0,
) -> str:
    """One SOP document for one playbook, from template `sop.<fmt>.j2`."""
    language = check_lang(lang, playbook)
    context = sop_context(
        playbook,
        lang=language,
        fmt=check_format(fmt),
        source=source,
        realtime_seconds=realtime_seconds,
    )
    return get_renderer(language, templates_dir).render(f"sop.{fmt}.j2", context)


def index_entry(playbook: Playbook, fmt: str) -> dict[str, Any]:
    """One line of the SOP index: what a landing page lists about a playbook."""
    data = playbook_data(playbook)
    meta = data["metadata"]
    return {
        "id": meta["id"],
        "title": meta["title"],
        "file": meta["id"] + FORMATS[fmt],
        "version": meta["version"],
        "status": meta["status"],
        "owner": meta["owner"],
        "owner_name": meta["owner_name"],
        "scenarios": [scenario["name"] for scenario in data["scenarios"]],
        "updated": meta["updated"],
        "tags": meta["tags"],
        "lang": data["language"],
    }


def render_index(
    playbooks: Sequence[Playbook],
    *,
    lang: str | None = None,
    fmt: str = "md",
    templates_dir: Path | None = None,
) -> str:
    """The landing page listing every SOP, from template `index.<fmt>.j2`."""
    check_format(fmt)
    entries = sorted((index_entry(p, fmt) for p in playbooks), key=lambda entry: entry["id"])
    if lang is None:  # the language most SOPs are written in; Chinese on a tie
        english = sum(entry["lang"] == "en" for entry in entries)
        lang = "en" if english * 2 > len(entries) else "zh"
    language = check_lang(lang)
    context = {"lang": language, "format": fmt, "sops": entries}
    return get_renderer(language, templates_dir).render(f"index.{fmt}.j2", context)


def render_sop_files(
    paths: Sequence[Path],
    *,
    fmt: str = "md",
    lang: str | None = None,
    templates_dir: Path | None = None,
) -> dict[str, str]:
    """Load the playbooks under `paths` and render `<id>.<fmt>` for each plus the index."""
    from opsplay.config import find_config
    from opsplay.discovery import require_regular_file
    from opsplay.validate import discover, load_playbook

    check_format(fmt)
    check_lang(lang)
    for path in paths:
        if not path.is_dir():
            require_regular_file(path)  # else "no playbook files in it" would be all it says
    files = discover(list(paths))
    if not files:
        raise UsageError(
            _("no playbook files (*.yaml, *.yml) in {paths}").format(
                paths=", ".join(str(p) for p in paths)
            )
        )
    documents: dict[str, str] = {}
    loaded: list[Playbook] = []
    seen: dict[str, Path] = {}
    for path in files:
        config = find_config(path.parent)
        playbook = load_playbook(path, config)
        playbook_id = playbook.metadata.id
        if playbook_id in seen:
            raise InputError(
                _("{path}: playbook id `{id}` is also used by {other}").format(
                    path=path, id=playbook_id, other=seen[playbook_id]
                )
            )
        seen[playbook_id] = path
        documents[playbook_id + FORMATS[fmt]] = render_sop(
            playbook,
            lang=lang,
            fmt=fmt,
            templates_dir=templates_dir,
            source=source_of(path),
            realtime_seconds=config.realtime_seconds,
        )
        loaded.append(playbook)
    index_name = "index" + FORMATS[fmt]
    if index_name in documents:
        raise InputError(
            _("a playbook id `index` would overwrite the SOP index {name}; rename it").format(
                name=index_name
            )
        )
    documents[index_name] = render_index(loaded, lang=lang, fmt=fmt, templates_dir=templates_dir)
    return documents


def _ladder_steps(escalation: Any) -> list[dict[str, Any]]:
    """Every escalation step of a node: one ladder, or one per level (`{P1: [...]}`, SPEC 12),
    a level's steps carrying their level (`default` for every other level)."""
    if isinstance(escalation, dict):
        return [
            {**step, "level": level} for level, steps in escalation.items() for step in steps or []
        ]
    return list(escalation or [])
