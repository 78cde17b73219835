"""pydantic models of the `opsplay/v1` playbook format: the one schema of the project.

Field names follow SPEC section 1. Descriptions and examples become the JSON Schema
that editors use for completion (`opsplay schema`). Semantic checks that need the
whole playbook (references, graph, SMART goal, versions) live in `opsplay.rules`, so
that they run and report positions even when some fields fail here.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from opsplay.model.duration import Duration


def _as_text(value: Any) -> Any:
    """Let text fields take what YAML typed as a number or date, exactly as written."""
    source = getattr(value, "yaml_source", None)
    if source is not None:
        return source
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


Text = Annotated[str, BeforeValidator(_as_text), StringConstraints(min_length=1)]
# Ids are referenced from elsewhere in the playbook, so they must be one word: any script
# (Chinese ids are fine), no spaces and none of the characters YAML or Markdown tables
# give a meaning to. The same pattern is in the JSON Schema, for editors.
IDENTIFIER_PATTERN = r"""^[^\s,:\[\]{}#|"'`]+$"""
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
Identifier = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(pattern=IDENTIFIER_PATTERN),
    Field(
        description="An id: one word without spaces, e.g. push-content or 推送内容.",
        examples=["push-content"],
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
]
Slug = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(pattern=SLUG_PATTERN),
    Field(json_schema_extra={"pattern": SLUG_PATTERN}),
]
Rate = Annotated[float, Field(description="A number; rates of proportion metrics lie in [0, 1].")]
Comparator = Literal["<", "<=", ">", ">="]
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Strict(BaseModel):
    """Base of every section: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Period(Strict):
    """A date range, both ends included."""

    start: dt.date = Field(description="First day (ISO date).", examples=["2024-07-01"])
    end: dt.date = Field(description="Last day (ISO date).", examples=["2024-09-30"])


class ChangelogEntry(Strict):
    """One released version of the playbook."""

    version: Text = Field(description="Semantic version of this entry.", examples=["1.2.0"])
    date: dt.date = Field(description="Release date.", examples=["2024-08-01"])
    summary: Text = Field(description="What changed.", examples=["缩短标签识别时限至1秒"])


class Metadata(Strict):
    """Identity and lifecycle of the playbook."""

    id: Slug = Field(
        description="Unique playbook id: lowercase letters, digits and `-`.",
        examples=["new-user-onboarding"],
    )
    title: Text = Field(description="Human title.", examples=["新用户引导优化"])
    version: Text = Field(
        description="Semantic version of the content (quote it).", examples=["1.2.0"]
    )
    status: Literal["draft", "pilot", "rollout", "active", "retired"] = Field(
        description="Lifecycle stage: draft | pilot | rollout | active | retired.",
        examples=["pilot"],
    )
    owner: Identifier = Field(
        description="Role id of the process owner (流程负责人).", examples=["pm"]
    )
    updated: dt.date = Field(
        description="Date of the last content update.", examples=["2024-08-01"]
    )
    lang: Literal["zh", "en"] | None = Field(
        default=None,
        description="Language of rendered documents; default zh if the title has Chinese.",
    )
    tags: list[Text] = Field(default_factory=list, examples=[["retention", "onboarding"]])
    changelog: list[ChangelogEntry] = Field(
        default_factory=list,
        description="Released versions, newest first; the first entry's version equals `version`.",
    )


class Goal(Strict):
    """Step 1: the SMART goal."""

    statement: Text = Field(
        description="The goal in one sentence.", examples=["将新用户次日留存率从35%提升至45%"]
    )
    metric: Identifier = Field(
        description="Id of the metric the goal moves.", examples=["d1_retention"]
    )
    baseline: float = Field(description="Value today.", examples=[0.35])
    target: float = Field(
        description="Value to reach, in the metric's better direction.", examples=[0.45]
    )
    deadline: dt.date = Field(
        description="Date by which the target is reached.", examples=["2024-12-31"]
    )


class Scope(Strict):
    """Step 1: who and what the process covers."""

    segments: list[Text] = Field(default_factory=list, examples=[["2024年Q3新增18-25岁女性用户"]])
    stages: list[Text] = Field(default_factory=list, examples=[["注册", "首次下单"]])
    period: Period | None = None


class Role(Strict):
    """A role taking part in the process."""

    id: Identifier = Field(examples=["pm"])
    name: Text = Field(examples=["产品经理"])
    duties: list[Text] = Field(default_factory=list, examples=[["流程负责人"]])


class _MetricBase(Strict):
    id: Identifier = Field(description="Metric id, referenced by goal, scenarios, alerts, pilot.")
    name: Text = Field(description="Display name.", examples=["次日留存率"])
    better: Literal["higher", "lower"] = Field(description="Which direction is an improvement.")
    unit: Text | None = Field(default=None, examples=["元"])
    missing: Literal["exclude", "zero", "error"] = Field(
        default="exclude",
        description="A missing cell (blank, NA, NULL…) in an export: exclude (leave the unit out "
        "of this metric only), zero (count it as 0, e.g. revenue of users without orders) or "
        "error.",
    )


class ProportionMetric(_MetricBase):
    """Share of units with a 0/1 outcome (e.g. next-day retention)."""

    kind: Literal["proportion"] = Field(description="Metric kind: proportion | mean | ratio.")
    column: Text = Field(
        description="Export column holding 0/1 per unit.", examples=["retained_d1"]
    )


class MeanMetric(_MetricBase):
    """Average of a numeric column per unit (e.g. revenue per user)."""

    kind: Literal["mean"] = Field(description="Metric kind: proportion | mean | ratio.")
    column: Text = Field(
        description="Export column holding the value per unit.", examples=["revenue"]
    )


class RatioMetric(_MetricBase):
    """Σ numerator / Σ denominator (e.g. revenue per order)."""

    kind: Literal["ratio"] = Field(description="Metric kind: proportion | mean | ratio.")
    numerator: Text = Field(description="Export column summed on top.", examples=["revenue"])
    denominator: Text = Field(description="Export column summed below.", examples=["orders"])


Metric = Annotated[ProportionMetric | MeanMetric | RatioMetric, Field(discriminator="kind")]


class Expectation(Strict):
    """A quantified expected effect: metric op value."""

    metric: Identifier = Field(examples=["d1_retention"])
    op: Comparator = Field(examples=[">="])
    value: Rate = Field(examples=[0.40])


class Scenario(Strict):
    """Step 2 / Table 1: a user scenario and its core demand."""

    id: Identifier = Field(examples=["onboarding"])
    name: Text = Field(examples=["新用户引导优化"])
    persona: Text = Field(description="Who the user is.", examples=["18-25岁学生用户，首次登录"])
    trigger: Text = Field(
        description="Trigger condition.", examples=["登录后未在3分钟内进入核心功能模块"]
    )
    behavior: Text | None = Field(default=None, description="What the user does.")
    defect: Text | None = Field(default=None, description="What is wrong today.")
    demand: Text = Field(
        description="The user's core demand.", examples=["快速知晓核心功能并完成首次操作"]
    )
    expected: list[Expectation] = Field(
        default_factory=list, description="Expected effect as thresholds."
    )


class Fallback(Strict):
    """Exception handling (异常处理方案) of a node."""

    when: list[Literal["failure", "timeout", "rejected", "no_response"]] = Field(
        min_length=1, description="Triggers: failure | timeout | rejected | no_response."
    )
    action: Text = Field(description="What to do.", examples=["默认推送通用内容"])
    goto: Identifier | None = Field(default=None, description="Node id to continue with.")


class Node(Strict):
    """Step 3 / Table 2: one process node, in time order."""

    id: Identifier = Field(examples=["tag-detect"])
    name: Text = Field(examples=["行为标签识别"])
    owner: Identifier = Field(description="Role id that executes the node.", examples=["algo"])
    stage: Text | None = Field(default=None, examples=["用户触发场景"])
    inputs: list[Text] = Field(default_factory=list)
    outputs: list[Text] = Field(default_factory=list)
    sla: Duration | None = Field(default=None, description="Time limit (时限).")
    tools: list[Text] = Field(default_factory=list)
    standard: Text | None = Field(default=None, description="Execution standard (执行标准).")
    fallback: Fallback | None = None
    next: list[Identifier] | None = Field(
        default=None,
        description="Node ids that follow; default: the next node in the list; [] ends the process.",
    )


class Alert(Strict):
    """Step 5: a monitoring threshold on a node measure or on a metric."""

    id: Identifier = Field(examples=["push-completion"])
    node: Identifier | None = Field(default=None, description="Node id (node alerts).")
    measure: (
        Literal[
            "completion_rate",
            "fallback_rate",
            "failure_rate",
            "timeout_rate",
            "sla_compliance",
            "p50_s",
            "p95_s",
        ]
        | None
    ) = Field(default=None, description="Node measure compared (node alerts).")
    metric: Identifier | None = Field(default=None, description="Metric id (metric alerts).")
    op: Comparator = Field(examples=["<"])
    threshold: float = Field(examples=[0.9])
    severity: Literal["info", "warning", "critical"] = "warning"
    owner: Identifier | None = Field(default=None, description="Role id that acts when it fires.")
    action: Text | None = Field(default=None, description="What to do when it fires.")


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
    design: Literal["ab", "before_after", "did"] = Field(
        description="ab (randomised) | before_after | did (difference in differences)."
    )
    arm_column: Text = "group"
    arms: ArmLabels = Field(default_factory=ArmLabels)
    period: Period | None = None
    date_column: Text | None = Field(
        default=None,
        description="Export column with each row's date: with it, rows outside `period` (and "
        "`before_period`) are left out, and before/after come from the dates when the export "
        "has no period column.",
        examples=["register_date"],
    )
    before_period: Period | None = Field(
        default=None, description="Dates of the `before` period (before_after and did)."
    )
    metrics: list[Identifier] = Field(min_length=1, description="Primary metric ids.")
    guardrails: list[Identifier] = Field(default_factory=list, description="Must not get worse.")
    alpha: float = Field(default=0.05, gt=0, lt=1)
    split: float = Field(default=0.5, gt=0, lt=1, description="Planned pilot share (ab).")
    min_n: int = Field(default=100, ge=1)
    period_column: Text = "period"
    periods: PeriodLabels = Field(default_factory=PeriodLabels)


class Rollout(Strict):
    """Step 5: roll-out resources and training."""

    training: list[Text] = Field(default_factory=list, examples=[["运营、客服、技术全员流程培训"]])
    resources: list[Text] = Field(default_factory=list)


class Finding(Strict):
    """A reviewed metric with its cause and next action (Table 3)."""

    metric: Identifier
    cause: Text = Field(description="Why the metric moved (原因).")
    action: Text = Field(description="What to do next (改进措施).")


class Review(Strict):
    """Step 6: review after the pilot."""

    findings: list[Finding] = Field(default_factory=list)
    successes: list[Text] = Field(default_factory=list)
    improvements: list[Text] = Field(default_factory=list)


class Playbook(Strict):
    """An opsplay/v1 playbook: one scenario-based operations process."""

    api_version: Literal["opsplay/v1"] = Field(
        alias="apiVersion", description="Format version: opsplay/v1."
    )
    kind: Literal["Playbook"] = Field(description="Always Playbook.")
    metadata: Metadata = Field(
        description="Identity and lifecycle: id, title, version, status, owner."
    )
    goal: Goal = Field(description="Step 1: the SMART goal (metric, baseline, target, deadline).")
    scope: Scope | None = Field(
        default=None, description="Step 1: segments, stages and period covered."
    )
    roles: list[Role] = Field(
        min_length=1, description="Roles taking part; owners refer to their ids."
    )
    metrics: list[Metric] = Field(
        min_length=1, description="How each metric is read from a metric export."
    )
    scenarios: list[Scenario] = Field(
        default_factory=list, description="Step 2 / Table 1: user scenarios."
    )
    nodes: list[Node] = Field(
        min_length=1, description="Step 3 / Table 2: process nodes in time order."
    )
    alerts: list[Alert] = Field(default_factory=list, description="Step 5: monitoring thresholds.")
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

    @property
    def language(self) -> Literal["zh", "en"]:
        """Language of rendered text: `metadata.lang`, else zh if the title has Chinese."""
        if self.metadata.lang:
            return self.metadata.lang
        return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in self.metadata.title) else "en"
