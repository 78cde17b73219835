"""The process flowchart drawn as inline SVG, and the same flowchart as numbered steps.

HTML SOPs and reports embed the SVG: one box per node with its name, solid arrows for
the normal flow (`next`), dashed ones for every other edge kind (fallback, escalation),
placed by `opsplay.render.layout` (grandalf's Sugiyama layout). Byte-stable (same graph,
same bytes), no script and nothing loaded: text is escaped and drawn by the browser.
Word documents get the steps instead (`flow_steps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from opsplay.i18n import N_, translate
from opsplay.labels import level_words
from opsplay.render.flowtext import LINE, NAME_SIZE, NOTE_SIZE, PAD_Y, edge_label
from opsplay.render.layout import Arrow, Layout, layout
from opsplay.text import visible

FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
COLOURS = {
    "process": ("#ddf4ff", "#0969da"),
    "fallback": ("#fff8c5", "#9a6700"),
    "escalation": ("#ffebe9", "#cf222e"),
    "end": ("#f6f8fa", "#59636e"),
}


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _arrow_head(points: Sequence[tuple[float, float]]) -> str:
    """A filled triangle at the last point, along the last segment (no marker ids to clash)."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x1 - ux * 8, y1 - uy * 8
    corners = [(x1, y1), (bx - uy * 4, by + ux * 4), (bx + uy * 4, by - ux * 4)]
    return " ".join(f"{_f(px)},{_f(py)}" for px, py in corners)


def _edge_label(arrow: Arrow, colour: str) -> str:
    """The arrow's label at the middle of its longest segment, haloed to stay readable."""
    if not arrow.label:
        return ""
    segments = list(zip(arrow.points, arrow.points[1:], strict=False))
    (x0, y0), (x1, y1) = max(
        segments, key=lambda s: abs(s[1][0] - s[0][0]) + abs(s[1][1] - s[0][1])
    )
    return (
        f'<text x="{_f((x0 + x1) / 2 + 4)}" y="{_f((y0 + y1) / 2 + 3)}" font-size="10" '
        f'fill="{colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
        f"{escape(arrow.label)}</text>"
    )


def svg(drawing: Layout, *, label: str) -> Markup:
    """The layout as an `<svg>` element: groups `g.node` (one per box) and `g.edge`."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="opsplay-flowchart" '
        f'width="{_f(drawing.width)}" height="{_f(drawing.height)}" '
        f'viewBox="0 0 {_f(drawing.width)} {_f(drawing.height)}" role="img" '
        f"aria-label=\"{escape(label)}\" font-family='{FONT}'>",
        f"<title>{escape(label)}</title>",
    ]
    for arrow in drawing.arrows:
        stroke = COLOURS["end"][1] if arrow.kind == "next" else COLOURS.get(
            arrow.kind, COLOURS["fallback"]
        )[1]  # fmt: skip
        dash = "" if arrow.kind == "next" else ' stroke-dasharray="5 4"'
        points = " ".join(f"{_f(x)},{_f(y)}" for x, y in arrow.points)
        out.append(
            f'<g class="edge {escape(arrow.kind)}" data-source="{escape(arrow.source)}" '
            f'data-target="{escape(arrow.target)}">'
            f'<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="1.4"{dash}/>'
            f'<polygon points="{_arrow_head(arrow.points)}" fill="{stroke}"/>'
            + _edge_label(arrow, stroke)
            + "</g>"
        )
    for box in drawing.boxes:
        fill, stroke = COLOURS.get(box.kind, COLOURS["fallback"])
        radius = box.height / 2 if box.kind == "end" else 6
        out.append(f'<g class="node {escape(box.kind)}" data-id="{escape(box.key)}">')
        out.append(f"<title>{escape(box.title)}</title>")
        out.append(
            f'<rect x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(box.width)}" '
            f'height="{_f(box.height)}" rx="{_f(radius)}" fill="{fill}" stroke="{stroke}"/>'
        )
        size = NAME_SIZE if box.kind == "process" else NOTE_SIZE
        y = box.y + PAD_Y + size
        centre = box.x + box.width / 2
        weight = ' font-weight="600"' if box.kind == "process" else ""
        for line in box.lines:
            out.append(
                f'<text x="{_f(centre)}" y="{_f(y)}" text-anchor="middle" font-size="{size}"'
                f'{weight} fill="#1f2328">{escape(line)}</text>'
            )
            y += size * LINE
        for note in box.notes:
            out.append(
                f'<text x="{_f(centre)}" y="{_f(y)}" text-anchor="middle" '
                f'font-size="{NOTE_SIZE}" fill="#59636e">{escape(note)}</text>'
            )
            y += NOTE_SIZE * LINE
        out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))


# Boxes plus arrows the layout draws. Its crossing reduction grows faster than the graph
# (a 200-node process with 3 edges per node took 11 s, 300 nodes 28 s and more): a larger
# process gets its steps as a numbered list, which reads better at that size anyway.
MAX_DRAWN_ITEMS = 500


def flowchart_svg(flow: dict[str, Any], *, lang: str, title: str) -> Markup:
    """The flowchart of one process as inline SVG, labelled with the process title; a process
    too large to draw (MAX_DRAWN_ITEMS) as its numbered steps, said in words."""
    size = len(flow["nodes"]) + len(flow["edges"])
    if size > MAX_DRAWN_ITEMS:
        steps = flow_steps(flow, lang)
        words = translate(
            N_(
                "The process has {count} steps and {edges} arrows, too many to draw "
                "legibly; here are its steps in order."
            ),
            lang,
        ).format(count=len(steps), edges=len(flow["edges"]))
        items = Markup("").join(Markup("<li>%s</li>") % visible(step) for step in steps)
        return Markup('<p class="opsplay-flow-too-large">%s</p>\n<ol>%s</ol>') % (words, items)
    label = translate(N_("Flowchart of {title}"), lang).format(title=title)
    return svg(layout(flow, lang), label=label)


# Punctuation between the parts of a step (not sentences of their own).
_PUNCTUATION = {
    "zh": {"list": "、", "or": " / ", "clause": "；", "colon": "：", "open": "（", "close": "）"},
    "en": {"list": ", ", "or": " / ", "clause": "; ", "colon": ": ", "open": " (", "close": ")"},
}


def flow_steps(flow: dict[str, Any], lang: str) -> list[str]:
    """The flowchart as numbered steps: each node with where it goes next and its fallbacks."""
    marks = _PUNCTUATION.get(lang, _PUNCTUATION["en"])
    items = {str(item["mid"]): item for item in flow["nodes"]}
    number = {
        key: index
        for index, key in enumerate(
            (key for key, item in items.items() if item.get("shape", "process") == "process"),
            start=1,
        )
    }

    def step(key: str) -> str:
        item = items.get(key, {})
        if item.get("shape") == "end":
            return translate(N_("End of the process"), lang)
        return translate(N_("step {number} {name}"), lang).format(
            number=number.get(key, "?"), name=visible(str(item.get("text") or key))
        )

    lines = []
    for key, index in number.items():
        item = items[key]
        node = item.get("node") or {}
        parts = [visible(str(item.get("text") or key))]
        owner = node.get("owner_name")
        if owner:
            parts.append(marks["open"] + visible(str(owner)) + marks["close"])
        sentences = []
        following = [
            e["target"] for e in flow["edges"] if e["source"] == key and e.get("kind") == "next"
        ]
        ends = [t for t in following if items.get(str(t), {}).get("shape") == "end"]
        if following and len(ends) == len(following):
            sentences.append(translate(N_("this ends the process"), lang))
        elif following:
            sentences.append(
                translate(N_("next: {steps}"), lang).format(
                    steps=marks["list"].join(step(str(t)) for t in following)
                )
            )
        for edge in flow["edges"]:
            if edge["source"] != key or edge.get("kind") == "next":
                continue
            target = items.get(str(edge["target"]), {})
            if edge.get("kind") == "escalation" and target.get("shape") == "escalation":
                sentences.append(_escalation_sentence(edge, target, lang))
                continue
            condition = edge_label(edge, lang)
            goes_to_step = target.get("shape", "process") in ("process", "end")
            action = (
                step(str(edge["target"]))
                if goes_to_step
                else visible(str(target.get("text") or ""))
            )
            if not condition:  # a dashed edge without trigger or label: an escalation, say
                sentences.append(
                    translate(N_("Escalation: {action}"), lang).format(action=action)
                    if edge.get("kind") == "escalation"
                    else action
                )
            elif goes_to_step:
                sentences.append(
                    translate(N_("on {triggers}: go to {step}"), lang).format(
                        triggers=condition, step=action
                    )
                )
            else:
                sentences.append(
                    translate(N_("on {triggers}: {action}"), lang).format(
                        triggers=condition, action=action
                    )
                )
        lines.append(
            f"{index}. {''.join(parts)}"
            + (marks["colon"] + marks["clause"].join(sentences) if sentences else "")
        )
    return lines


def _escalation_sentence(edge: dict[str, Any], target: dict[str, Any], lang: str) -> str:
    """One rung of the escalation ladder as a sentence: when, to whom, and what is done."""
    role = visible(str(target.get("text") or ""))
    after = visible(str(edge.get("after") or ""))
    action = target.get("action")
    if action:
        sentence = translate(
            N_("if unfinished after {after}, escalate to {role} ({action})"), lang
        ).format(after=after, role=role, action=visible(str(action)))
    else:
        sentence = translate(N_("if unfinished after {after}, escalate to {role}"), lang).format(
            after=after, role=role
        )
    if not edge.get("level"):
        return sentence
    # a ladder of one level: `P1 级超过30分钟仍未完成…`, `其他级别超过4小时仍未完成…`
    return translate(N_("{level}, {sentence}"), lang).format(
        level=visible(level_words(edge["level"], lang=lang)), sentence=sentence
    )
