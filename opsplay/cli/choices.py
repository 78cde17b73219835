"""Choices of the command-line options, shared by the command groups.

The output-format choices mirror registries in the core (validate formatters, pilot
formatters, document formats, diff formats). They are spelled out here so that loading
the command line does not import those modules (and pydantic, numpy or jinja2 with
them); tests/test_cli_choices.py fails if a registry and its choice list drift apart.

Floor: the CLI. Imports nothing of opsplay.
"""

from __future__ import annotations

import enum


class Lang(str, enum.Enum):
    """Languages the wording ships in."""

    zh = "zh"
    en = "en"


class ValidateFormat(str, enum.Enum):
    """opsplay.formats.FORMATTERS."""

    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class CompareFormat(str, enum.Enum):
    """opsplay.pilot.presentation.formats.FORMATTERS."""

    text = "text"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class PlanFormat(str, enum.Enum):
    """opsplay.pilot.playbook_plan.FORMATS."""

    text = "text"
    json = "json"


class DocumentFormat(str, enum.Enum):
    """opsplay.render.documents.DOCUMENT_FORMATS."""

    md = "md"
    html = "html"
    docx = "docx"


class DiffFormat(str, enum.Enum):
    """opsplay.diff.formats.FORMATS."""

    text = "text"
    json = "json"
    markdown = "markdown"


class InputFormat(str, enum.Enum):
    """Export shapes `pilot compare` reads (auto: detected from the header)."""

    auto = "auto"
    units = "units"
    stats = "stats"
    summary = "summary"


class Test(str, enum.Enum):
    """Two-group tests: Welch's t (default, as gbstats) or the unpooled z."""

    welch = "welch"
    z = "z"


class Variance(str, enum.Enum):
    """Variance of a proportion difference: unpooled (default) or pooled."""

    unpooled = "unpooled"
    pooled = "pooled"


class Correction(str, enum.Enum):
    """Multiple-testing corrections."""

    holm = "holm"
    bh = "bh"
    none = "none"
