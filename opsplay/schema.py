"""The JSON Schema of the playbook format, in the draft-07 dialect editors understand."""

from __future__ import annotations

import json
from typing import Any

from opsplay.model.playbook import Playbook

SCHEMA_ID = "https://opsplay.dev/schema/opsplay-v1.json"


def playbook_schema() -> dict[str, Any]:
    """Generate the schema from the models, with `definitions` refs as draft-07 expects."""
    schema = Playbook.model_json_schema(
        by_alias=True, ref_template="#/definitions/{model}", mode="validation"
    )
    definitions = schema.pop("$defs", {})
    _metric_discriminator(schema["properties"]["metrics"]["items"], definitions)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        **schema,
        "definitions": definitions,
    }


def schema_json() -> str:
    """The schema as pretty JSON text (Chinese kept readable)."""
    return json.dumps(playbook_schema(), ensure_ascii=False, indent=2) + "\n"


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
