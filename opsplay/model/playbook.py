"""pydantic models of the `opsplay/v1` playbook format: the one schema of the project.

Field names follow SPEC section 1. Descriptions and examples become the JSON Schema
that editors use for completion (`opsplay schema`). Semantic checks that need the
whole playbook (references, graph, SMART goal, versions) live in `opsplay.rules`, so
that they run and report positions even when some fields fail here.
"""

# No `from __future__ import annotations`: pydantic would read every field's annotation back
# from its text (a compile and an eval each, on every start-up); written, Python builds them.

import datetime as dt
import operator
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from opsplay.i18n import N_
from opsplay.model.aliases import canonical, every_word
from opsplay.model.duration import Duration
from opsplay.model.process import Sla
from opsplay.model.schedule import Schedule


def _as_text(value: Any) -> Any:
    """Let text fields take what YAML typed as a number or date, exactly as written."""
    source = getattr(value, "yaml_source", None)
    if source is not None:
        return source
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class _WrittenText:
    """Text as written (`_as_text`), then checked by pydantic-core's own string checks.

    The same errors and JSON Schema as `Annotated[str, BeforeValidator(_as_text),
    StringConstraints(…)]`, for which pydantic builds a Python check after the validator (its
    constraints cannot go into the string schema past a validator). Said directly, the model
    is built with 1.5 % fewer instructions of `opsplay validate` (it is built on every run:
    59 text fields, 28 ids), and the checks run in pydantic-core."""

    def __init__(self, **constraints: Any) -> None:
        self.constraints = constraints

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            _as_text, core_schema.str_schema(**self.constraints)
        )


Text = Annotated[str, _WrittenText(min_length=1)]
# Ids are referenced from elsewhere in the playbook, so they must be one word: any script
# (Chinese ids are fine), no spaces and none of the characters YAML or Markdown tables
# give a meaning to. The same pattern is in the JSON Schema, for editors.
IDENTIFIER_PATTERN = r"""^[^\s,:\[\]{}#|"'`]+$"""
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
Identifier = Annotated[
    str,
    _WrittenText(pattern=IDENTIFIER_PATTERN),
    Field(
        description=N_("An id: one word without spaces, e.g. push-content or 推送内容."),
        examples=["push-content"],
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
]
Slug = Annotated[
    str,
    _WrittenText(pattern=SLUG_PATTERN),
    Field(json_schema_extra={"pattern": SLUG_PATTERN}),
]
Rate = Annotated[
    float,
    Field(
        description=N_("A number; rates of proportion metrics lie in [0, 1]."), allow_inf_nan=False
    ),
]
# A measured value: infinity and NaN cannot be a baseline, target or threshold.
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _aliased(choices: Any, field: str) -> Any:
    """`choices` (a Literal) that also reads the Chinese aliases of `field` as their English
    value, and lists both in the JSON Schema so that editors complete them (SPEC 6)."""
    english = set(get_args(choices))
    words = [word for word in every_word(field) if canonical(field, word) in english]
    return Annotated[
        choices,
        BeforeValidator(lambda value: canonical(field, value)),
        WithJsonSchema({"type": "string", "enum": words}),
    ]


Status = _aliased(Literal["draft", "pilot", "rollout", "active", "retired"], "status")
Language = _aliased(Literal["zh", "en"], "lang")
Better = _aliased(Literal["higher", "lower"], "better")
Trigger = _aliased(Literal["failure", "timeout", "rejected", "no_response"], "when")
AlertSeverity = _aliased(Literal["info", "warning", "critical"], "severity")
Measure = _aliased(
    Literal[
        "completion_rate",
        "fallback_rate",
        "failure_rate",
        "timeout_rate",
        "sla_compliance",
        "p50_s",
        "p95_s",
        "schedule_adherence",
    ],
    "measure",
)
Design = _aliased(Literal["ab", "before_after", "did"], "design")
ProportionKind = _aliased(Literal["proportion"], "kind")
MeanKind = _aliased(Literal["mean"], "kind")
RatioKind = _aliased(Literal["ratio"], "kind")
Comparator = Literal["<", "<=", ">", ">="]
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _no_items() -> list[Any]:
    """The default of a list field. A function of ours, not the builtin `list`: pydantic reads
    a default factory's signature, and a builtin's takes the tokenizer (~10 ms at start-up)."""
    return []


class Strict(BaseModel):
    """Base of every section: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Period(Strict):
    """A date range, both ends included."""

    start: dt.date = Field(description=N_("First day (ISO date)."), examples=["2024-07-01"])
    end: dt.date = Field(description=N_("Last day (ISO date)."), examples=["2024-09-30"])


class ChangelogEntry(Strict):
    """One released version of the playbook."""

    version: Text = Field(description=N_("Semantic version of this entry."), examples=["1.2.0"])
    date: dt.date = Field(description=N_("Release date."), examples=["2024-08-01"])
    summary: Text = Field(description=N_("What changed."), examples=["缩短标签识别时限至1秒"])


class Metadata(Strict):
    """Identity and lifecycle of the playbook."""

    id: Slug = Field(
        description=N_("Unique playbook id: lowercase letters, digits and `-`."),
        examples=["new-user-onboarding"],
    )
    title: Text = Field(description=N_("Human title."), examples=["新用户引导优化"])
    version: Text = Field(
        description=N_("Semantic version of the content (quote it)."), examples=["1.2.0"]
    )
    status: Status = Field(
        description=N_("Lifecycle stage: draft | pilot | rollout | active | retired."),
        examples=["pilot"],
    )
    owner: Identifier = Field(
        description=N_("Role id of the process owner (流程负责人)."), examples=["pm"]
    )
    updated: dt.date = Field(
        description=N_("Date of the last content update."), examples=["2024-08-01"]
    )
    lang: Language | None = Field(
        default=None,
        description="Language of rendered documents; default zh if the title has Chinese.",
    )
    tags: list[Text] = Field(default_factory=_no_items, examples=[["retention", "onboarding"]])
    changelog: list[ChangelogEntry] = Field(
        default_factory=_no_items,
        description="Released versions, newest first; the first entry's version equals `version`.",
    )


class Goal(Strict):
    """Step 1: the SMART goal."""

    statement: Text = Field(
        description=N_("The goal in one sentence."), examples=["将新用户次日留存率从35%提升至45%"]
    )
    metric: Identifier = Field(
        description=N_("Id of the metric the goal moves."), examples=["d1_retention"]
    )
    baseline: Finite = Field(description=N_("Value today."), examples=[0.35])
    target: Finite = Field(
        description=N_("Value to reach, in the metric's better direction."), examples=[0.45]
    )
    deadline: dt.date = Field(
        description=N_("Date by which the target is reached."), examples=["2024-12-31"]
    )


class Scope(Strict):
    """Step 1: who and what the process covers."""

    segments: list[Text] = Field(
        default_factory=_no_items, examples=[["2024年Q3新增18-25岁女性用户"]]
    )
    stages: list[Text] = Field(default_factory=_no_items, examples=[["注册", "首次下单"]])
    period: Period | None = None


class Contacts(Strict):
    """Who to @-mention in robot messages for a role (any subset of the four)."""

    mobile: Text | None = Field(
        default=None,
        description=N_("Mobile number: DingTalk atMobiles and WeCom mentioned_mobile_list."),
        examples=["13800000000"],
    )
    dingtalk: Text | None = Field(default=None, description=N_("DingTalk user id (atUserIds)."))
    feishu: Text | None = Field(
        default=None, description=N_("Feishu/Lark user id or open id (<at user_id=…>).")
    )
    wecom: Text | None = Field(default=None, description=N_("WeCom user id (mentioned_list)."))


class Role(Strict):
    """A role taking part in the process."""

    id: Identifier = Field(examples=["pm"])
    name: Text = Field(examples=["产品经理"])
    duties: list[Text] = Field(default_factory=_no_items, examples=[["流程负责人"]])
    contacts: Contacts | None = Field(
        default=None,
        description=N_("Who robot messages @-mention for this role (SPEC 12)."),
        examples=[{"mobile": "13800000000", "dingtalk": "manager4220"}],
    )


class _MetricBase(Strict):
    id: Identifier = Field(
        description=N_("Metric id, referenced by goal, scenarios, alerts, pilot.")
    )
    name: Text = Field(description=N_("Display name."), examples=["次日留存率"])
    better: Better = Field(description=N_("Which direction is an improvement."))
    unit: Text | None = Field(default=None, examples=["元"])
    weight: float | None = Field(
        default=None,
        description=(
            "Weight in the weighted attainment (综合达成度 = Σ weight × attainment) of the "
            "pilot's metrics: in (0, 1], the weights summing to 1."
        ),
        examples=[0.4],
    )
    missing: Literal["exclude", "zero", "error"] = Field(
        default="exclude",
        description=N_(
            "A missing cell (blank, NA, NULL…) in an export: exclude (leave the unit out of "
            "this metric only), zero (count it as 0, e.g. revenue of users without orders) or "
            "error."
        ),
    )


class ProportionMetric(_MetricBase):
    """Share of units with a 0/1 outcome (e.g. next-day retention)."""

    kind: ProportionKind = Field(description=N_("Metric kind: proportion | mean | ratio."))
    column: Text = Field(
        description=N_("Export column holding 0/1 per unit."), examples=["retained_d1"]
    )
    pre_column: Text | None = Field(
        default=None,
        description=N_(
            "Export column holding the same metric per unit before the pilot: the comparison "
            "is then regression-adjusted (CUPED), which narrows the intervals."
        ),
        examples=["retained_d1_before"],
    )


class MeanMetric(_MetricBase):
    """Average of a numeric column per unit (e.g. revenue per user)."""

    kind: MeanKind = Field(description=N_("Metric kind: proportion | mean | ratio."))
    column: Text = Field(
        description=N_("Export column holding the value per unit."), examples=["revenue"]
    )
    pre_column: Text | None = Field(
        default=None,
        description=N_(
            "Export column holding the same metric per unit before the pilot: the comparison "
            "is then regression-adjusted (CUPED), which narrows the intervals."
        ),
        examples=["revenue_before"],
    )


class RatioMetric(_MetricBase):
    """Σ numerator / Σ denominator (e.g. revenue per order)."""

    kind: RatioKind = Field(description=N_("Metric kind: proportion | mean | ratio."))
    numerator: Text = Field(description=N_("Export column summed on top."), examples=["revenue"])
    denominator: Text = Field(description=N_("Export column summed below."), examples=["orders"])
    # Not supported for ratios: accepted here so that rule OPS315 says so in words.
    pre_column: Text | None = Field(
        default=None,
        description=N_("Not available for ratio metrics (proportion and mean metrics only)."),
    )


def _metric_kind(value: Any) -> str | None:
    """The English kind of a metric (before validation: aliases such as 比例 count)."""
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    if kind is None:
        return None
    return str(canonical("kind", kind)) if not isinstance(kind, str) else canonical("kind", kind)


Metric = Annotated[
    Annotated[ProportionMetric, Tag("proportion")]
    | Annotated[MeanMetric, Tag("mean")]
    | Annotated[RatioMetric, Tag("ratio")],
    Discriminator(_metric_kind),
]


class Expectation(Strict):
    """A quantified expected effect: metric op value."""

    metric: Identifier = Field(examples=["d1_retention"])
    op: Comparator = Field(examples=[">="])
    value: Rate = Field(examples=[0.40])


class Scenario(Strict):
    """Step 2 / Table 1: a user scenario and its core demand."""

    id: Identifier = Field(examples=["onboarding"])
    name: Text = Field(examples=["新用户引导优化"])
    persona: Text = Field(
        description=N_("Who the user is."), examples=["18-25岁学生用户，首次登录"]
    )
    trigger: Text = Field(
        description=N_("Trigger condition."), examples=["登录后未在3分钟内进入核心功能模块"]
    )
    behavior: Text | None = Field(default=None, description="What the user does.")
    defect: Text | None = Field(default=None, description="What is wrong today.")
    demand: Text = Field(
        description=N_("The user's core demand."), examples=["快速知晓核心功能并完成首次操作"]
    )
    expected: list[Expectation] = Field(
        default_factory=_no_items, description="Expected effect as thresholds."
    )


class Fallback(Strict):
    """Exception handling (异常处理方案) of a node."""

    when: list[Trigger] = Field(
        min_length=1, description=N_("Triggers: failure | timeout | rejected | no_response.")
    )
    action: Text = Field(description=N_("What to do."), examples=["默认推送通用内容"])
    goto: Identifier | None = Field(default=None, description="Node id to continue with.")


def _fallback_form(value: Any) -> str:
    return "list" if isinstance(value, list) else "one"


Fallbacks = Annotated[
    Annotated[Fallback, Tag("one")] | Annotated[list[Fallback], Tag("list")],
    Discriminator(_fallback_form),
    Field(
        description=(
            "Exception handling (异常处理): one, or a list with a different action per trigger "
            "(each trigger in one entry only)."
        ),
        examples=[
            {"when": ["failure", "timeout"], "action": "默认推送通用内容"},
            [
                {"when": ["timeout"], "action": "切换备用链路", "goto": "verify"},
                {"when": ["failure"], "action": "人工介入"},
            ],
        ],
    ),
]


class Level(Strict):
    """A severity or priority level of the cases the process handles (P1, P2, …)."""

    id: Identifier = Field(description="Level id, as in the log's `level` column.", examples=["P1"])
    name: Text = Field(description="What the level means.", examples=["一级故障（核心系统不可用）"])


class BusinessCalendar(Strict):
    """Business hours a node's duration limits count in (as service desks keep SLA calendars)."""

    id: Identifier = Field(examples=["客服班次"])
    name: Text | None = Field(default=None, examples=["客服班次（09:00-21:00）"])
    hours: Text = Field(
        description=N_("Opening hours of each day: 09:00-21:00, or 09:00-12:00,13:30-18:00."),
        examples=["09:00-21:00"],
    )
    days: Text = Field(
        default="工作日",
        description=N_("Days the hours apply: 工作日 (workdays), 每天 (daily), 周一至周五."),
        examples=["工作日"],
    )

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        from opsplay.model.hours import parse_hours

        try:
            parse_hours(value)
        except ValueError as error:
            raise PydanticCustomError("hours", str(error)) from None
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        from opsplay.model.hours import parse_days

        try:
            parse_days(value)
        except ValueError as error:
            raise PydanticCustomError("days", str(error)) from None
        return value

    def business_hours(self) -> Any:
        """The hours as opsplay.model.hours.BusinessHours."""
        from opsplay.model.hours import BusinessHours, parse_days, parse_hours

        return BusinessHours(self.id, parse_hours(self.hours), parse_days(self.days))


class EscalationStep(Strict):
    """One rung of an escalation ladder: still unfinished `after` → hand over or notify `to`."""

    after: Duration = Field(
        description="Time since the node started; later steps wait longer.", examples=["15分钟"]
    )
    to: Identifier = Field(
        description="Role id handed over to or notified.", examples=["ops-manager"]
    )
    action: Text = Field(description="What is done at this step.", examples=["电话通知运维经理"])


def _escalation_form(value: Any) -> str:
    return "levels" if isinstance(value, dict) else "list"


# One ladder, or one per level (`{P1: [...], P2: [...], default: [...]}`, SPEC 12).
Escalation = Annotated[
    Annotated[list[EscalationStep], Tag("list")]
    | Annotated[dict[Identifier, list[EscalationStep]], Tag("levels")],
    Discriminator(_escalation_form),
]


class Raci(Strict):
    """Who does (R), answers for (A), is consulted on (C) and informed of (I) a node."""

    responsible: list[Identifier] = Field(
        default_factory=_no_items,
        description="R: role ids that do the work.",
        examples=[["oncall"]],
    )
    accountable: Identifier | list[Identifier] | None = Field(
        default=None,
        description="A: the one role id that answers for the result (exactly one).",
        examples=["ops-manager"],
    )
    consulted: list[Identifier] = Field(
        default_factory=_no_items,
        description="C: role ids asked before acting.",
        examples=[["dba"]],
    )
    informed: list[Identifier] = Field(
        default_factory=_no_items, description="I: role ids kept informed.", examples=[["cs"]]
    )

    @property
    def accountable_role(self) -> str | None:
        """The accountable role id (None unless exactly one is given)."""
        if isinstance(self.accountable, list):
            return self.accountable[0] if len(self.accountable) == 1 else None
        return self.accountable


class Node(Strict):
    """Step 3 / Table 2: one process node, in time order."""

    id: Identifier = Field(examples=["tag-detect"])
    name: Text = Field(examples=["行为标签识别"])
    owner: Identifier = Field(description=N_("Role id that executes the node."), examples=["algo"])
    stage: Text | None = Field(default=None, examples=["用户触发场景"])
    inputs: list[Text] = Field(default_factory=_no_items)
    outputs: list[Text] = Field(default_factory=_no_items)
    sla: Sla | None = None
    tools: list[Text] = Field(default_factory=_no_items)
    standard: Text | None = Field(default=None, description="Execution standard (执行标准).")
    fallback: Fallbacks | None = None
    next: list[Identifier] | None = Field(
        default=None,
        description="Node ids that follow; default: the next node in the list; [] ends the process.",
    )
    escalation: Escalation = Field(
        default_factory=_no_items,
        description="Escalation ladder (升级): steps with strictly increasing `after`.",
        examples=[
            [
                {"after": "15分钟", "to": "ops-manager", "action": "电话通知运维经理"},
                {"after": "30分钟", "to": "tech-vp", "action": "升级至技术VP"},
            ]
        ],
    )
    raci: Raci | None = Field(
        default=None,
        description="RACI: responsible, the one accountable, consulted and informed role ids.",
        examples=[
            {
                "responsible": ["oncall"],
                "accountable": "ops-manager",
                "consulted": ["dba"],
                "informed": ["cs"],
            }
        ],
    )
    schedule: Schedule | None = None  # described by the Schedule type (定时执行)
    entry: bool = Field(
        default=False,
        description=N_(
            "An entry point of the process besides the first node (an incoming 报警 beside a "
            "scheduled 巡检): every node must be reachable from one of the entry nodes."
        ),
    )
    calendar: Identifier | None = Field(
        default=None,
        description=N_(
            "Business-hour calendar (calendars[].id): the node's duration limits count only "
            "its hours."
        ),
        examples=["客服班次"],
    )

    @property
    def ladders(self) -> dict[str | None, list[EscalationStep]]:
        """Escalation ladders by level (`escalation: {P1: [...]}`); None: one for every level."""
        if isinstance(self.escalation, dict):
            return dict(self.escalation)
        return {None: list(self.escalation)} if self.escalation else {}

    @property
    def fallbacks(self) -> list[Fallback]:
        """The node's exception handling as a list, however it was written."""
        if self.fallback is None:
            return []
        return self.fallback if isinstance(self.fallback, list) else [self.fallback]


class Alert(Strict):
    """Step 5: a monitoring threshold on a node measure or on a metric."""

    id: Identifier = Field(examples=["push-completion"])
    node: Identifier | None = Field(default=None, description="Node id (node alerts).")
    measure: Measure | None = Field(
        default=None, description="Node measure compared (node alerts)."
    )
    metric: Identifier | None = Field(default=None, description="Metric id (metric alerts).")
    op: Comparator = Field(examples=["<"])
    threshold: Finite = Field(examples=[0.9])
    severity: AlertSeverity = "warning"
    owner: Identifier | None = Field(default=None, description="Role id that acts when it fires.")
    action: Text | None = Field(default=None, description="What to do when it fires.")
    renotify: Duration | None = Field(
        default=None,
        description=N_(
            "Re-send the message of an alert still firing after this long (as Alertmanager's "
            "repeat_interval), measured on watch's clock (`--as-of`, else now); a rise in "
            "severity re-sends at once. A calendar form is due as for a case started at the "
            "last message, skipping weekends and holidays: 下一个工作日9点前 re-sends at 09:00 "
            "of the next working day, T+1 once 24:00 of the next working day has passed."
        ),
        examples=["2小时", "下一个工作日9点前"],
    )
    level: Identifier | None = Field(
        default=None,
        description="Level id: the node measure counts only the log's rows of this level.",
        examples=["P1"],
    )
    # Checked by rule OPS309 (a positive whole number), so a 0 is reported with a fix.
    for_runs: int | None = Field(
        default=None,
        alias="for",
        description=N_(
            "Fire only after the condition held on this many consecutive `opsplay watch` "
            "runs (as Prometheus' `for:`); one run without it resolves the alert."
        ),
        examples=[3],
        json_schema_extra={"minimum": 1},
    )
    min_n: int | None = Field(
        default=None,
        description=N_(
            "Fewest rows (node alerts: the node's log rows; metric alerts: the pilot arm's "
            'units) to judge the alert on; below it the alert shows "not enough data", '
            "never fired and never passed."
        ),
        examples=[200],
        json_schema_extra={"minimum": 1},
    )

    @property
    def runs_needed(self) -> int:
        """Consecutive runs the condition must hold before the alert fires (1 without `for`)."""
        return max(1, self.for_runs or 1)


class ArmLabels(Strict):
    """Values of the arm column."""

    baseline: Text = "control"
    pilot: Text = "pilot"


class PeriodLabels(Strict):
    """Values of the period column."""

    before: Text = "before"
    after: Text = "after"


class Pilot(Strict):
    """Step 4: how the pilot is run and measured."""

    scope: Text | None = Field(default=None, examples=["华东地区新用户"])
    design: Design = Field(
        description=N_("ab (randomised) | before_after | did (difference in differences).")
    )
    arm_column: Text = "group"
    arms: ArmLabels = Field(default_factory=ArmLabels)
    cluster: Text | None = Field(
        default=None,
        description=N_(
            "Export column naming the cluster the arm was assigned by (region, city, store, "
            "channel): clusters, not users, are then the units of every test."
        ),
        examples=["区域"],
    )
    period: Period | None = None
    date_column: Text | None = Field(
        default=None,
        description=N_(
            "Export column with each row's date: with it, rows outside `period` (and "
            "`before_period`) are left out, and before/after come from the dates when the "
            "export has no period column."
        ),
        examples=["register_date"],
    )
    before_period: Period | None = Field(
        default=None, description=N_("Dates of the `before` period (before_after and did).")
    )
    metrics: list[Identifier] = Field(min_length=1, description=N_("Primary metric ids."))
    guardrails: list[Identifier] = Field(
        default_factory=_no_items, description="Must not get worse."
    )
    alpha: float = Field(default=0.05, gt=0, lt=1)
    split: float = Field(default=0.5, gt=0, lt=1, description="Planned pilot share (ab).")
    min_n: int = Field(default=100, ge=1)
    period_column: Text = "period"
    periods: PeriodLabels = Field(default_factory=PeriodLabels)
    sequential: bool = Field(
        default=False,
        description=N_(
            "Always-valid intervals and p-values (a sequential test), for results looked at "
            "again and again, as a scheduled check does; always on in `opsplay watch`."
        ),
    )
    sequential_tuning: float = Field(
        default=5000,
        gt=0,
        description=N_(
            "Tuning parameter of the sequential test (gbstats' default 5000): about the number "
            "of units at which its intervals are narrowest relative to a one-look test."
        ),
    )
    feedback: list[Text] = Field(
        default_factory=_no_items,
        description="Qualitative feedback channels beside the metrics (数据驱动与用户反馈并重).",
        examples=[["用户访谈", "满意度问卷", "工单分析"]],
    )


class Rollout(Strict):
    """Step 5: roll-out resources and training."""

    training: list[Text] = Field(
        default_factory=_no_items, examples=[["运营、客服、技术全员流程培训"]]
    )
    resources: list[Text] = Field(default_factory=_no_items)


class Finding(Strict):
    """A reviewed metric with its cause and next action (Table 3)."""

    metric: Identifier
    cause: Text = Field(description=N_("Why the metric moved (原因)."))
    action: Text = Field(description=N_("What to do next (改进措施)."))


class Review(Strict):
    """Step 6: review after the pilot."""

    findings: list[Finding] = Field(default_factory=_no_items)
    successes: list[Text] = Field(default_factory=_no_items)
    improvements: list[Text] = Field(default_factory=_no_items)


class Playbook(Strict):
    """An opsplay/v1 playbook: one scenario-based operations process."""

    api_version: Literal["opsplay/v1"] = Field(
        alias="apiVersion", description=N_("Format version: opsplay/v1.")
    )
    kind: Literal["Playbook"] = Field(description=N_("Always Playbook."))
    metadata: Metadata = Field(
        description=N_("Identity and lifecycle: id, title, version, status, owner.")
    )
    goal: Goal = Field(
        description=N_("Step 1: the SMART goal (metric, baseline, target, deadline).")
    )
    scope: Scope | None = Field(
        default=None, description="Step 1: segments, stages and period covered."
    )
    roles: list[Role] = Field(
        min_length=1, description=N_("Roles taking part; owners refer to their ids.")
    )
    metrics: list[Metric] = Field(
        min_length=1, description=N_("How each metric is read from a metric export.")
    )
    scenarios: list[Scenario] = Field(
        default_factory=_no_items, description="Step 2 / Table 1: user scenarios."
    )
    levels: list[Level] = Field(
        default_factory=_no_items,
        description="Severity or priority levels of the cases (P1, P2…), for per-level limits.",
        examples=[
            [{"id": "P1", "name": "一级故障（核心系统不可用）"}, {"id": "P2", "name": "二级故障"}]
        ],
    )
    calendars: list[BusinessCalendar] = Field(
        default_factory=_no_items,
        description=N_(
            "Business-hour calendars (客服班次 09:00-21:00 on working days) that nodes count "
            "their duration limits in."
        ),
        examples=[[{"id": "客服班次", "hours": "09:00-21:00", "days": "工作日"}]],
    )
    nodes: list[Node] = Field(
        min_length=1, description=N_("Step 3 / Table 2: process nodes in time order.")
    )
    alerts: list[Alert] = Field(
        default_factory=_no_items, description="Step 5: monitoring thresholds."
    )
    pilot: Pilot | None = Field(
        default=None, description="Step 4: how the pilot is run and measured."
    )
    rollout: Rollout | None = Field(default=None, description="Step 5: training and resources.")
    review: Review | None = Field(default=None, description="Step 6: findings after the pilot.")

    def metric(self, metric_id: str) -> ProportionMetric | MeanMetric | RatioMetric | None:
        """The metric with this id, or None."""
        return next((m for m in self.metrics if m.id == metric_id), None)

    def node(self, node_id: str) -> Node | None:
        """The node with this id, or None."""
        return next((n for n in self.nodes if n.id == node_id), None)

    def business_hours(self, node: Node) -> Any:
        """The business hours (opsplay.model.hours) of a node with a `calendar`, or None."""
        found = next((c for c in self.calendars if c.id == node.calendar), None)
        return found.business_hours() if found is not None and node.calendar else None

    @property
    def language(self) -> Literal["zh", "en"]:
        """Language of rendered text: `metadata.lang`, else zh if the title has Chinese."""
        if self.metadata.lang:
            return self.metadata.lang
        return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in self.metadata.title) else "en"
