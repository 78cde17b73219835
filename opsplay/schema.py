"""The JSON Schema of the playbook format, in the draft-07 dialect editors understand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opsplay.i18n import translate
from opsplay.model.playbook import Playbook

SCHEMA_ID = "https://opsplay.dev/schema/opsplay-v1.json"


def playbook_schema(lang: str = "en") -> dict[str, Any]:
    """Generate the schema from the models, with `definitions` refs as draft-07 expects; the
    descriptions editors show on hover in `lang` (the English ones are catalogue ids)."""
    schema = Playbook.model_json_schema(
        by_alias=True, ref_template="#/definitions/{model}", mode="validation"
    )
    definitions = schema.pop("$defs", {})
    _metric_discriminator(schema["properties"]["metrics"]["items"], definitions)
    _percent_strings(definitions)
    document = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        **schema,
        "definitions": definitions,
    }
    if lang != "en":
        for holder in descriptions(document):
            holder["description"] = translate(holder["description"], lang)
    _drop_titles(document["properties"])
    _drop_titles(document["definitions"])
    return document


# Where `95%` is read as 0.95 for a proportion (opsplay.model.percent; validate checks that the
# value is a share there): editors accept the percentage too.
PERCENT_PLACES = {
    "Goal": ("baseline", "target"),
    "Alert": ("threshold",),
    "Expectation": ("value",),
    "Pilot": ("alpha", "split"),
}
PERCENT_PATTERN = r"^\s*[+-]?\d+(\.\d+)?\s*[%％]\s*$"


def _percent_strings(definitions: dict[str, Any]) -> None:
    for model, keys in PERCENT_PLACES.items():
        properties = definitions.get(model, {}).get("properties", {})
        for key in keys:
            number = properties.get(key)
            if number is None or number.get("type") != "number":
                continue
            shared = {
                k: number.pop(k) for k in ("description", "examples", "default") if k in number
            }
            properties[key] = {
                **shared,
                "anyOf": [number, {"type": "string", "pattern": PERCENT_PATTERN}],
            }


def _drop_titles(node: Any) -> None:
    """Remove pydantic's titles made from field names (`Apiversion`, `Sla`): editors show them
    above the description, in neither language."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):  # not a field named `title` (metadata.title)
            del node["title"]
        for key, value in node.items():
            if key not in ("enum", "const", "default", "examples", "description"):
                _drop_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_titles(value)


def descriptions(node: Any) -> Iterator[dict[str, Any]]:
    """Every object of the schema that has a `description` text."""
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            yield node
        for key, value in node.items():
            if key not in ("description", "enum", "const", "default", "examples"):
                yield from descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from descriptions(value)


def schema_json(lang: str = "en") -> str:
    """The schema as pretty JSON text (Chinese kept readable)."""
    return json.dumps(playbook_schema(lang), ensure_ascii=False, indent=2) + "\n"


def _metric_discriminator(items: dict[str, Any], definitions: dict[str, Any]) -> None:
    """Name `kind` as what picks a metric's shape, with every word for it (比例 too): the
    models pick by a function (aliases), which pydantic cannot describe by itself."""
    mapping = {}
    for option in items.get("oneOf", []):
        reference = option.get("$ref", "")
        kind = definitions.get(reference.rsplit("/", 1)[-1], {}).get("properties", {}).get("kind")
        for word in (kind or {}).get("enum", []):
            mapping[word] = reference
    if mapping:
        items["discriminator"] = {"propertyName": "kind", "mapping": mapping}
