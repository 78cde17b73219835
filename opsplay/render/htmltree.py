"""A small, forgiving HTML → element tree (standard library only) for the Word conversion."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from opsplay.text import visible

VOID = {"br", "meta", "img", "hr", "input", "link", "col", "wbr", "source"}
SKIP = {"head", "script", "style", "title", "svg", "template"}


@dataclass
class Element:
    """An HTML element: tag, attributes and children (elements or text)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    def classes(self) -> set[str]:
        """The element's CSS classes."""
        return set(self.attrs.get("class", "").split())


class _TreeBuilder(HTMLParser):
    """A forgiving HTML → Element tree (opsplay's own templates write well-formed HTML)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {key: value or "" for key, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    """The element tree of an HTML document."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def text_of(node: Element | str) -> str:
    """All text under a node, whitespace collapsed (`<br>` as a space)."""
    if isinstance(node, str):
        return node
    if node.tag in SKIP:
        return ""
    if node.tag == "br":
        return " "
    return "".join(text_of(child) for child in node.children)


def clean(text: str) -> str:
    return visible(" ".join(text.split()))


def find(node: Element, tag: str) -> Element | None:
    for child in node.children:
        if isinstance(child, Element):
            if child.tag == tag:
                return child
            found = find(child, tag)
            if found is not None:
                return found
    return None
