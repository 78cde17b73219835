"""The opsplay/v1 playbook model."""

from opsplay.model.duration import Duration, parse_duration
from opsplay.model.playbook import Alert, Metric, Node, Playbook

__all__ = ["Alert", "Duration", "Metric", "Node", "Playbook", "parse_duration"]
