"""The flowchart's geometry: grandalf's Sugiyama layout of the process graph, without overlaps.

Input is the graph `opsplay.render.sop.flow` builds for the Mermaid block (so the drawing
and the Mermaid source never disagree). Edges against the node order (retries) are drawn
back up; self-loops on the box's side; parallel edges side by side; components side by
side. The same graph always gives the same coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opsplay.render.flowtext import box_size, box_texts, edge_label

X_SPACE, Y_SPACE, MARGIN, COMPONENT_GAP = 28, 40, 12, 40


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
    texts = {key: box_texts(item, lang) for key, item in zip(keys, items, strict=True)}
    vertices: dict[str, Any] = {}
    for key, item in zip(keys, items, strict=True):
        _title, lines, notes = texts[key]
        vertex = Vertex(key)
        vertex.view = _View(*box_size(lines, notes, item.get("shape", "process")))
        vertices[key] = vertex
    edges = [
        (str(e["source"]), str(e["target"]), str(e.get("kind", "next")), edge_label(e, lang))
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
