"""Diagnostics (what validate reports) and the catalogue of rules that produce them."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from opsplay.i18n import N_, _, message_language, ngettext


class Severity(str, enum.Enum):
    """How bad a finding is; errors fail validation, warnings only under --strict."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding at a position in a file; ordering by file and line keeps output stable."""

    file: str
    line: int
    column: int
    rule: str
    severity: Severity = field(compare=False)
    message: str = field(compare=False)
    path: str = ""


@dataclass(frozen=True)
class Rule:
    """A rule of the catalogue: stable id, default severity, one-line explanation."""

    id: str
    severity: Severity
    summary: str  # English, marked with N_; show it with `rule.text`

    @property
    def text(self) -> str:
        """The summary in the message language."""
        return _(self.summary)


E, W = Severity.ERROR, Severity.WARNING

_CATALOGUE = [
    # OPS0xx: reading the file
    Rule("OPS001", E, N_("The file cannot be read as UTF-8 text.")),
    Rule("OPS002", E, N_("The file is not valid YAML.")),
    Rule("OPS003", E, N_("A key appears twice in one mapping (YAML would keep only the last).")),
    Rule(
        "OPS004",
        W,
        N_(
            "A YAML 1.1 boolean word (yes/no/on/off) is read as text; quote it or write true/false."
        ),
    ),
    Rule("OPS005", W, N_("A sexagesimal number like 1:30 is read as text, not 90; quote it.")),
    Rule("OPS006", E, N_("A tab is used for indentation; YAML indents with spaces.")),
    Rule("OPS007", E, N_("The file holds several YAML documents; one playbook per file.")),
    Rule(
        "OPS008",
        E,
        N_("Anchors and aliases expand beyond the safety limit, or values are nested too deep."),
    ),
    Rule("OPS009", E, N_("The file is empty or its top level is not a mapping.")),
    Rule(
        "OPS010",
        E,
        N_(
            "An entry cannot be read as a playbook file (a folder, device or pipe, a symlink "
            "leaving the checked folder, or a file above the size limit)."
        ),
    ),
    Rule(
        "OPS011",
        E,
        N_(
            "Playbook text holds a control character (a terminal escape, say), an invisible "
            "character in a key or id, or a bidirectional override; none is shown raw."
        ),
    ),
    Rule(
        "OPS012",
        W,
        N_(
            "Playbook text holds invisible characters pasted from chat apps or Word "
            "(zero-width space, U+FEFF)."
        ),
    ),
    # OPS1xx: structure (the schema)
    Rule("OPS101", E, N_("A required key is missing.")),
    Rule("OPS102", E, N_("An unknown key (typos must not pass silently).")),
    Rule("OPS103", E, N_("A value has the wrong type or form.")),
    Rule("OPS104", E, N_("A value is not one of the allowed choices.")),
    Rule("OPS105", E, N_("A time limit (sla) is not in an accepted form.")),
    Rule("OPS106", E, N_("`apiVersion` or `kind` is not opsplay/v1 Playbook.")),
    # OPS2xx: references and the node graph
    Rule("OPS201", E, N_("An owner is not a role id.")),
    Rule("OPS202", E, N_("A metric reference is not a metric id.")),
    Rule("OPS203", E, N_("A `next` or `fallback.goto` is not a node id.")),
    Rule(
        "OPS204",
        E,
        N_("An alert names no existing node or metric, or mixes node and metric fields."),
    ),
    Rule("OPS205", E, N_("An id is used twice in the same list.")),
    Rule("OPS206", E, N_("Two playbooks checked together share a metadata.id.")),
    Rule("OPS207", E, N_("A node cannot be reached from the first node or another entry node.")),
    Rule("OPS208", E, N_("The node graph has a cycle that does not pass through a fallback.goto.")),
    # OPS3xx: the SMART goal and value ranges
    Rule(
        "OPS301",
        E,
        N_("The goal's target is not in the metric's better direction from the baseline."),
    ),
    Rule("OPS302", E, N_("A rate of a proportion metric lies outside [0, 1].")),
    Rule(
        "OPS303",
        E,
        N_("A date range is inverted, or the deadline is before the scope period starts."),
    ),
    Rule("OPS304", E, N_("A rate threshold (alert or expected effect) lies outside [0, 1].")),
    # OPS4xx: versioning
    Rule("OPS401", E, N_("metadata.version is not a semantic version (MAJOR.MINOR.PATCH).")),
    Rule("OPS402", E, N_("metadata.version differs from the first changelog entry.")),
    Rule("OPS403", W, N_("The changelog is not newest first.")),
    # OPS5xx: stage readiness
    Rule("OPS501", W, N_("A node has no time limit (sla).")),
    Rule("OPS502", W, N_("A node has no exception handling (fallback).")),
    Rule(
        "OPS503", W, N_("A rollout/active playbook has no alerts (step 5 monitoring thresholds).")
    ),
    Rule("OPS504", W, N_("A rollout/active playbook has no rollout.training (step 5).")),
    Rule("OPS505", W, N_("A pilot playbook has no pilot section (step 4).")),
    Rule("OPS506", W, N_("An active or retired playbook has no review section (step 6).")),
    Rule("OPS507", W, N_("A `<…>` placeholder from `opsplay init` is still in the playbook.")),
    # OPS6xx: suppressions
    Rule("OPS601", W, N_("An inline suppression matches no diagnostic.")),
    Rule(
        "OPS602", E, N_("An inline suppression has no reason (`-- why`) or names an unknown rule.")
    ),
    # OPS7xx: versions against a git base (validate --base)
    Rule(
        "OPS701",
        E,
        N_(
            "A playbook's content changed since the base ref but metadata.version did not increase."
        ),
    ),
    Rule("OPS702", E, N_("metadata.version is lower than at the base ref.")),
    Rule(
        "OPS703",
        W,
        N_("The version bump is smaller than the changes call for (major/minor/patch)."),
    ),
    Rule(
        "OPS704",
        E,
        N_(
            "The version changed but the changelog lost its entries (it needs the new version first)."
        ),
    ),
    Rule(
        "OPS705",
        W,
        N_("The playbook at the base ref cannot be compared, so its version was not checked."),
    ),
    # SPEC 8 (processes as teams run them), each in its family; `RULES` lists them by id.
    Rule("OPS107", E, N_("A schedule is not in an accepted form.")),
    Rule(
        "OPS209",
        E,
        N_("A level named in a per-level time limit, escalation ladder or alert is not declared."),
    ),
    Rule("OPS210", E, N_("An escalation step hands over to something that is not a role id.")),
    Rule("OPS211", E, N_("A RACI entry names something that is not a role id.")),
    Rule("OPS212", E, N_("A node's RACI does not name exactly one accountable role.")),
    Rule("OPS213", W, N_("A node's owner is neither its accountable nor one of its responsible.")),
    Rule("OPS214", E, N_("A trigger is handled by more than one fallback of a node.")),
    Rule(
        "OPS215",
        E,
        N_("An alert's `level` or `schedule_adherence` does not fit what the alert watches."),
    ),
    Rule("OPS216", E, N_("A node's business-hour `calendar` is not declared under `calendars`.")),
    Rule(
        "OPS217",
        W,
        N_(
            "A node's business-hour `calendar` has no effect: every limit of the node falls due "
            "at a time of day (T+1, 次日12点前, 3个工作日)."
        ),
    ),
    Rule("OPS305", E, N_("A metric weight lies outside (0, 1].")),
    Rule("OPS306", E, N_("The weights of the pilot's metrics do not add up to 1.")),
    Rule("OPS307", E, N_("An escalation ladder's `after` times do not strictly increase.")),
    Rule("OPS308", W, N_("The first escalation step waits longer than the node's time limit.")),
    Rule(
        "OPS309",
        E,
        N_("An alert's `for` (consecutive watch runs) or `min_n` is not a positive whole number."),
    ),
    Rule(
        "OPS315",
        E,
        N_("A metric's `pre_column` is on a ratio metric or repeats the metric's own column."),
    ),
    Rule(
        "OPS318",
        E,
        N_("`pilot.sequential: true` on a did, before_after or clustered pilot, where it fails."),
    ),
    Rule(
        "OPS316",
        E,
        N_("`pilot.cluster` names the column of the groups, periods or dates, not of clusters."),
    ),
    Rule(
        "OPS317",
        W,
        N_("A weighted metric has no target, so the weighted attainment can never be computed."),
    ),
    Rule(
        "OPS511",
        W,
        N_("A pilot assigned by cluster compares before with after, with no comparison clusters."),
    ),
    Rule("OPS508", W, N_("The process has more nodes than the hygiene limit (避免为流程而流程).")),
    Rule(
        "OPS509",
        W,
        N_("The main path hands over between owners more often than the hygiene limit."),
    ),
    Rule(
        "OPS510", W, N_("A pilot or live playbook has no pilot.feedback (数据驱动与用户反馈并重).")
    ),
    Rule(
        "OPS512",
        W,
        N_(
            "A cron schedule runs Monday to Friday, holidays included and 调休 make-up working "
            "days left out; `工作日 HH:MM` follows the working days."
        ),
    ),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in sorted(_CATALOGUE, key=lambda r: r.id)}


def format_path(path: tuple[str | int, ...]) -> str:
    """Render a data path as users read it: `nodes[1].owner`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def words(items: Sequence[object]) -> str:
    """A list of words as the message language writes it: `a, b, c` / `a、b、c`."""
    return ("、" if message_language() == "zh" else ", ").join(str(item) for item in items)


def error_listing(diagnostics: Sequence[Diagnostic]) -> str:
    """The first 20 findings as indented `file:line:col: RULE message` lines, for a message,
    and how many more there are."""
    lines = [f"  {d.file}:{d.line}:{d.column}: {d.rule} {d.message}" for d in diagnostics[:20]]
    if len(diagnostics) > 20:
        more = len(diagnostics) - 20
        lines.append(
            "  "
            + ngettext(
                "… and {count} more error (`opsplay validate` lists every one)",
                "… and {count} more errors (`opsplay validate` lists every one)",
                more,
            ).format(count=more)
        )
    return "\n".join(lines)
