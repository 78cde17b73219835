"""The process flowchart drawn as inline SVG: boxes laid out by grandalf's Sugiyama layout.

Input is the graph `opsplay.render.sop.flow` builds for the Mermaid block (so the
drawing and the Mermaid source never disagree): process nodes, fallback boxes, an end
node, `next` edges (solid) and every other edge kind (fallback, escalation: dashed).
Output is byte-stable (same graph, same bytes), holds no script and loads nothing:
text is escaped and drawn by the browser, boxes are sized for the width of Chinese text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from opsplay.i18n import N_, translate
from opsplay.text import visible

FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
NAME_SIZE = 13  # px, the node name
NOTE_SIZE = 11  # px, owner and time limit under the name
LINE = 1.35  # line height, in font sizes
PAD_X, PAD_Y = 12, 8
MAX_TEXT = 180  # px of text per line before it wraps
MAX_LINES = 3
X_SPACE, Y_SPACE, MARGIN, COMPONENT_GAP = 28, 40, 12, 40
_NO_LINE_START = set("，。、；：？！）」』”’》〉】…%,.;:?!)]}")
# What starts a fallback (`fallback.when`), as the arrow's label.
TRIGGERS = {
    "failure": N_("failure"),
    "timeout": N_("timeout"),
    "rejected": N_("rejected"),
    "no_response": N_("no response"),
}
COLOURS = {
    "process": ("#ddf4ff", "#0969da"),
    "fallback": ("#fff8c5", "#9a6700"),
    "escalation": ("#ffebe9", "#cf222e"),
    "end": ("#f6f8fa", "#59636e"),
}


@dataclass(frozen=True)
class Box:
    """One drawn node: its key in the graph, kind, text lines and rectangle (top-left, size)."""

    key: str
    kind: str
    title: str
    lines: tuple[str, ...]
    notes: tuple[str, ...]
    x: float
    y: float
    width: float
    height: float

    def overlaps(self, other: Box) -> bool:
        """Whether the two rectangles share any area."""
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


@dataclass(frozen=True)
class Arrow:
    """One drawn edge: `next` is solid, every other kind dashed; points from source to target."""

    source: str
    target: str
    kind: str
    points: tuple[tuple[float, float], ...]
    label: str = ""


@dataclass(frozen=True)
class Layout:
    """Boxes and arrows with the size of the drawing."""

    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    width: float
    height: float


def text_width(text: str, size: float) -> float:
    """Width a line takes in px: wide (Chinese) characters one em, others about 0.62 em."""
    return sum(
        size if unicodedata.east_asian_width(ch) in ("W", "F") else size * 0.62 for ch in text
    )


def wrap(text: str, size: float, limit: float = MAX_TEXT, max_lines: int = MAX_LINES) -> list[str]:
    """Lines of at most `limit` px: Chinese breaks between characters, other text at spaces."""
    words: list[str] = []
    for part in visible(" ".join(text.split())).split(" "):
        word = ""
        for ch in part:  # a wide character is a word of its own; long Latin words are cut
            if ch in _NO_LINE_START and (word or words):  # ，。） never start a line
                if word:
                    word += ch
                else:
                    words[-1] += ch
            elif unicodedata.east_asian_width(ch) in ("W", "F"):
                if word:
                    words.append(word)
                words.append(ch)
                word = ""
            elif text_width(word + ch, size) > limit:
                words.append(word)
                word = ch
            else:
                word += ch
        if word:
            words.append(word)
        words.append(" ")
    lines: list[str] = []
    current = ""
    for word in words[:-1]:
        candidate = current + word
        if current and text_width(candidate.rstrip(), size) > limit:
            lines.append(current.rstrip())
            current = "" if word == " " else word
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size) > limit:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines or [""]


def _texts(item: dict[str, Any], lang: str) -> tuple[str, list[str], list[str]]:
    """Title (full text), wrapped name lines and note lines of one graph node."""
    from opsplay.render.filters import sla

    shape = item.get("shape", "process")
    if shape == "end":
        title = translate(N_("End of the process"), lang)
        return title, [title], []
    text = visible(str(item.get("text") or ""))
    if shape == "process":
        node = item.get("node") or {}
        notes = [n for n in (node.get("owner_name"), sla(node, lang=lang)) if n]
        note = " · ".join(str(n) for n in notes)
        lines = wrap(text, NAME_SIZE)
        room = max([MAX_TEXT, *(text_width(line, NAME_SIZE) for line in lines)])
        return text, lines, wrap(note, NOTE_SIZE, limit=room, max_lines=2) if note else []
    label = (
        translate(N_("Escalation: {action}"), lang)
        if shape == "escalation"
        else translate(N_("Exception handling: {action}"), lang)
    ).format(action=text)
    return label, wrap(label, NOTE_SIZE), []


def _size(lines: Sequence[str], notes: Sequence[str], kind: str) -> tuple[float, float]:
    size = NAME_SIZE if kind == "process" else NOTE_SIZE
    widths = [text_width(line, size) for line in lines] + [
        text_width(note, NOTE_SIZE) for note in notes
    ]
    width = max(widths or [0.0]) + 2 * PAD_X
    height = len(lines) * size * LINE + len(notes) * NOTE_SIZE * LINE + 2 * PAD_Y
    return round(max(width, 64.0)), round(height)


class _View:
    """The size grandalf reads and the centre it writes (grandalf's vertex view protocol)."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


def layout(flow: dict[str, Any], lang: str) -> Layout:
    """Place the boxes of `flow` top-down (Sugiyama), components side by side, no overlaps."""
    from grandalf.graphs import Edge, Vertex, graph_core
    from grandalf.layouts import SugiyamaLayout

    items = list(flow["nodes"])
    keys = [str(item["mid"]) for item in items]
    order = {key: index for index, key in enumerate(keys)}
    # Process nodes keep their list order; a fallback box belongs right after its node.
    rank: dict[str, float] = {}
    for key, item in zip(keys, items, strict=True):
        node = item.get("node") or {}
        rank[key] = (
            float(len(items) + 1)
            if item.get("shape") == "end"
            else float(node.get("position", order[key]))
            + (0.5 if item.get("shape") not in (None, "process") else 0.0)
        )
    texts = {key: _texts(item, lang) for key, item in zip(keys, items, strict=True)}
    vertices: dict[str, Any] = {}
    for key, item in zip(keys, items, strict=True):
        _title, lines, notes = texts[key]
        vertex = Vertex(key)
        vertex.view = _View(*_size(lines, notes, item.get("shape", "process")))
        vertices[key] = vertex
    edges = [
        (str(e["source"]), str(e["target"]), str(e.get("kind", "next")), _label(e, lang))
        for e in flow["edges"]
        if str(e["source"]) in vertices and str(e["target"]) in vertices
    ]
    graph_edges = {}
    for index, (source, target, _kind, _label_text) in enumerate(edges):
        if source != target and (source, target) not in graph_edges:
            graph_edges[(source, target)] = Edge(vertices[source], vertices[target], data=index)

    boxes: dict[str, tuple[float, float, float, float]] = {}
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    left = float(MARGIN)
    for component in _components(keys, list(graph_edges)):
        members = [vertices[key] for key in component]
        inner = [edge for pair, edge in graph_edges.items() if pair[0] in set(component)]
        core = graph_core(members, inner)
        sugiyama = SugiyamaLayout(core)
        sugiyama.xspace, sugiyama.yspace = X_SPACE, Y_SPACE
        # Edges against the time order are the loops (retries): drawn back up, not ranked down.
        back = [e for e in inner if rank[e.v[1].data] <= rank[e.v[0].data]]
        sugiyama.init_all(roots=[members[0]], inverted_edges=back)
        sugiyama.draw(3)
        _separate(sugiyama)
        placed = [v for layer in sugiyama.layers for v in layer]
        min_x = min(v.view.xy[0] - v.view.w / 2 for v in placed)
        shift = left - min_x
        for vertex in members:
            cx, cy = vertex.view.xy
            w, h = vertex.view.w, vertex.view.h
            boxes[vertex.data] = (cx + shift - w / 2, cy + MARGIN - h / 2, w, h)
        for edge in inner:
            points = [edge.v[0].view.xy]
            control = sugiyama.ctrls.get(edge)
            if control:
                r0 = sugiyama.grx[edge.v[0]].rank
                r1 = sugiyama.grx[edge.v[1]].rank
                step = 1 if r0 < r1 else -1
                points += [control[r].view.xy for r in range(r0 + step, r1, step)]
            points.append(edge.v[1].view.xy)
            routes[(edge.v[0].data, edge.v[1].data)] = [(x + shift, y + MARGIN) for x, y in points]
        left = max(v.view.xy[0] + v.view.w / 2 for v in placed) + shift + COMPONENT_GAP

    arrows = _arrows(edges, boxes, routes)
    drawn = tuple(
        Box(
            key,
            str(items[order[key]].get("shape", "process")),
            texts[key][0],
            tuple(texts[key][1]),
            tuple(texts[key][2]),
            *boxes[key],
        )  # fmt: skip
        for key in keys
    )
    xs = [b.x + b.width for b in drawn] + [x for a in arrows for x, _ in a.points]
    ys = [b.y + b.height for b in drawn] + [y for a in arrows for _, y in a.points]
    return Layout(drawn, tuple(arrows), round(max(xs) + MARGIN), round(max(ys) + MARGIN))


def _label(edge: dict[str, Any], lang: str) -> str:
    """The triggers of a fallback edge in words (`timeout / failure`), else its own label."""
    triggers = edge.get("triggers") or []
    words = [translate(TRIGGERS[t], lang) if t in TRIGGERS else str(t) for t in triggers]
    return visible(" / ".join(words) or str(edge.get("label") or ""))


def _components(keys: list[str], pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components in node order (grandalf's own Graph orders edges by memory address)."""
    parent = {key: key for key in keys}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for source, target in pairs:
        a, b = find(source), find(target)
        if a != b:
            parent[max(a, b, key=keys.index)] = min(a, b, key=keys.index)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(find(key), []).append(key)
    return list(groups.values())


def _separate(sugiyama: Any) -> None:
    """Push boxes of a layer apart left to right: the averaged Brandes–Köpf x can overlap."""
    for layer in sugiyama.layers:
        ordered = sorted(layer, key=lambda v: (v.view.xy[0], sugiyama.grx[v].pos))
        for before, after in zip(ordered, ordered[1:], strict=False):
            least = before.view.xy[0] + (before.view.w + after.view.w) / 2 + X_SPACE
            if after.view.xy[0] < least:
                after.view.xy = (least, after.view.xy[1])


def _clip(
    box: tuple[float, float, float, float], toward: tuple[float, float]
) -> tuple[float, float]:
    """Where the line from the box's centre toward a point leaves the box."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (w / 2) / abs(dx) if dx else float("inf"), (h / 2) / abs(dy) if dy else float("inf")
    )
    return cx + dx * scale, cy + dy * scale


def _arrows(
    edges: list[tuple[str, str, str, str]],
    boxes: dict[str, tuple[float, float, float, float]],
    routes: dict[tuple[str, str], list[tuple[float, float]]],
) -> list[Arrow]:
    """Edges as polylines from border to border; parallel edges side by side, loops on the right."""
    between: dict[frozenset[str], int] = {}
    for source, target, _kind, _text in edges:
        between[frozenset((source, target))] = between.get(frozenset((source, target)), 0) + 1
    seen: dict[frozenset[str], int] = {}
    arrows = []
    for source, target, kind, text in edges:
        x, y, w, h = boxes[source]
        if source == target:  # a retry of the node itself: a loop on its right side
            right, top, bottom = x + w, y + h * 0.3, y + h * 0.7
            points = [(right, top), (right + 18, top), (right + 18, bottom), (right, bottom)]
            arrows.append(Arrow(source, target, kind, tuple(points), text))
            continue
        pair = frozenset((source, target))
        index = seen.get(pair, 0)
        seen[pair] = index + 1
        offset = (index - (between[pair] - 1) / 2) * 12
        route = routes.get((source, target))
        if route is None:  # drawn once already as the other direction of the same pair
            route = list(reversed(routes[(target, source)]))
        route = [(px + offset, py) for px, py in route]
        inner = route[1:-1]
        start = _clip(_moved(boxes[source], offset), inner[0] if inner else route[-1])
        end = _clip(_moved(boxes[target], offset), inner[-1] if inner else route[0])
        arrows.append(Arrow(source, target, kind, (start, *inner, end), text))
    return arrows


def _moved(box: tuple[float, float, float, float], dx: float) -> tuple[float, float, float, float]:
    return (box[0] + dx, box[1], box[2], box[3])


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


def flowchart_svg(flow: dict[str, Any], *, lang: str, title: str) -> Markup:
    """The flowchart of one process as inline SVG, labelled with the process title."""
    label = translate(N_("Flowchart of {title}"), lang).format(title=title)
    return svg(layout(flow, lang), label=label)
