"""The drawn flowchart (SVG) as a PNG picture for Word documents, when it can be drawn.

CairoSVG (a maintained SVG renderer on the cairo library) draws it. Cairo's text picks
one font by name and does not fall back per character, so the SVG's font list is
replaced by one font that has Chinese glyphs: the first fontconfig lists for Chinese,
else the system's own (Microsoft YaHei on Windows, PingFang SC on macOS). Without
CairoSVG, the cairo library, or such a font, there is no picture (None) and the
document keeps the flowchart as numbered steps only, never a picture of empty boxes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import lru_cache

_FONT = re.compile(r"font-family='[^']*'|font-family=\"[^\"]*\"")
# An edge label has a white halo: its outline drawn under its letters (`paint-order`). Cairo
# ignores `paint-order` and paints the white outline over the letters, which hid every label
# (失败, 超时, the escalation waits), so the picture draws the halo as a text of its own first.
_HALOED = re.compile(
    r'<text ([^>]*?) stroke="#ffffff" stroke-width="([\d.]+)" paint-order="stroke">(.*?)</text>'
)
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
SCALE = 2  # pixels per SVG unit: sharp when Word shows the picture at its natural size


@lru_cache(maxsize=1)
def chinese_font() -> str | None:
    """A font family with Chinese glyphs on this machine, or None."""
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            listed = subprocess.run(
                [fc_list, ":lang=zh", "family"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        families = sorted(
            {line.split(",")[0].strip() for line in listed.splitlines() if line.strip()}
        )
        if families:
            return families[0]
    if sys.platform == "win32":
        return "Microsoft YaHei"
    if sys.platform == "darwin":
        return "PingFang SC"
    return None


def _halo_below(match: re.Match[str]) -> str:
    """The label drawn twice: its white outline, then its letters over it."""
    attributes, width, text = match.groups()
    halo = re.sub(r'fill="[^"]*"', 'fill="#ffffff"', attributes)
    return (
        f'<text {halo} stroke="#ffffff" stroke-width="{width}">{text}</text>'
        f"<text {attributes}>{text}</text>"
    )


def flowchart_png(svg: str) -> bytes | None:
    """The SVG drawn as PNG, or None when no renderer or no font for its text is at hand."""
    try:
        import cairosvg
    except (ImportError, OSError):  # not installed, or the cairo library is missing
        return None
    font = chinese_font()
    if font is None and _WIDE.search(svg):
        return None
    if font is not None:
        svg = _FONT.sub(lambda _match: f'font-family="{font}"', svg)
    svg = _HALOED.sub(_halo_below, svg)
    try:
        png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=SCALE)
    except (OSError, ValueError):
        return None
    return png
