"""Words for the fixed values of a playbook and a comparison (status, triggers, verdicts…).

The model stores the English value whatever the user wrote (`status: 试点` is `pilot`);
documents show it in their own language through these labels, marked for the one
catalogue and translated where they are shown (the `label` filter, `label_of`).
"""

from __future__ import annotations

from opsplay.i18n import N_, translate

LABELS: dict[str, dict[str, str]] = {
    "status": {
        "draft": N_("draft"),
        "pilot": N_("pilot"),
        "rollout": N_("rollout"),
        "active": N_("active"),
        "retired": N_("retired"),
    },
    "trigger": {
        "failure": N_("failure"),
        "timeout": N_("timeout"),
        "rejected": N_("rejected"),
        "no_response": N_("no response"),
    },
    "severity": {"info": N_("info"), "warning": N_("warning"), "critical": N_("critical")},
    "design": {
        "ab": N_("A/B randomised control"),
        "before_after": N_("before/after (not causal)"),
        "did": N_("difference in differences (pilot and comparison groups, before and after)"),
    },
    "kind": {"proportion": N_("proportion"), "mean": N_("mean"), "ratio": N_("ratio")},
    "better": {"higher": N_("higher is better"), "lower": N_("lower is better")},
    "measure": {
        "completion_rate": N_("completion rate"),
        "fallback_rate": N_("fallback rate"),
        "failure_rate": N_("failure rate"),
        "timeout_rate": N_("timeout rate"),
        "sla_compliance": N_("SLA compliance"),
        "p50_s": N_("median duration"),
        "p95_s": N_("p95 duration"),
        "schedule_adherence": N_("schedule adherence"),
    },
    "role": {"primary": N_("primary"), "guardrail": N_("guardrail"), "secondary": N_("secondary")},
    "verdict": {
        "met": N_("target met"),
        "improved": N_("improved"),
        "worse": N_("worse"),
        "no_change": N_("no change"),
        "inconclusive": N_("not enough data"),
        # not a verdict of the JSON: an inconclusive row of dashboard values (method `point`)
        "dashboard": N_("cannot be tested (dashboard values)"),
        "not_testable": N_("cannot be tested with this design"),
        "changed_up": N_("went up (cause not shown)"),
        "changed_down": N_("went down (cause not shown)"),
        "no_change_seen": N_("no clear change"),
    },
    "conclusion": {
        "met": N_("met"),
        "partly": N_("partly met"),
        "not_met": N_("not met"),
        "insufficient": N_("not enough data to decide"),
        "untested": N_("this design cannot tell what the change did"),
    },
    "next_step": {
        "promote": N_("promote to full rollout"),
        "iterate": N_("iterate and pilot again"),
        "stop": N_("stop and roll back"),
        "declare_cluster": N_(
            "declare pilot.cluster (the column the warnings name) and compare again"
        ),
        "check_assignment": N_(
            "check how users were assigned to the groups, fix it and measure again"
        ),
        "add_comparison": N_(
            "measure again with comparison regions that keep the old process (design: did)"
        ),
    },
    "shape": {
        "units": N_("unit rows"),
        "stats": N_("sufficient statistics"),
        "summary": N_("summary"),
        "events": N_("node execution log"),
    },
}

# Comparison signs as printed (the same in both languages).
OPERATORS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def label_of(group: str, value: object, lang: str | None = None) -> str:
    """The word for `value` of `group` in `lang`; a value without a label is shown as is."""
    english = LABELS.get(group, {}).get(str(value)) if value is not None else None
    return translate(english, lang) if english else str(value)
