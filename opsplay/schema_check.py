"""Check raw playbook data against the pydantic models; turn errors into positioned diagnostics.

pydantic error locations are mapped back to the YAML: segments that are not in the
data (union members, discriminator tags) are skipped; a missing key points at its
parent mapping, an unknown key at the key, a bad value at the value.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from opsplay.config import KNOWN_KEYS
from opsplay.diagnostics import format_path, words
from opsplay.i18n import _, message_language
from opsplay.loader import LoadedFile
from opsplay.model.aliases import CHOICES, canonical, every_word
from opsplay.model.percent import DURATIONS, read_percentages
from opsplay.model.playbook import Playbook

Path = tuple[str | int, ...]


def check_schema(loaded: LoadedFile) -> Playbook | None:
    """Validate `loaded.data`; add diagnostics to `loaded`; return the Playbook when valid."""
    try:
        # `95%` where a proportion is meant is read as 0.95 (opsplay.model.percent)
        return Playbook.model_validate(read_percentages(loaded.data))
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            _report(loaded, detail)
        return None


def _report(loaded: LoadedFile, detail: dict[str, Any]) -> None:
    loc: tuple[Any, ...] = detail["loc"]
    kind = detail["type"]
    path = _data_path(loaded.data, loc)
    name = (
        (str(path[-1]) if isinstance(path[-1], str) else format_path(path))
        if path
        else _("playbook")
    )
    if kind == "missing":
        parent, missing = path, str(loc[-1])
        if path and path[-1] == loc[-1]:
            parent = path[:-1]
        if parent:
            message = _("`{key}` is required in `{where}`; add `{key}:`").format(
                key=missing, where=format_path(parent)
            )
        else:
            message = _("`{key}` is required at the top level; add `{key}:`").format(key=missing)
        loaded.report("OPS101", parent, message + _field_hint(loc, missing))
        return
    if kind == "extra_forbidden":
        key = str(loc[-1])
        # a list under `calendar` is the playbook's `calendars`, not the project's setting
        setting = not (key == "calendar" and isinstance(detail.get("input"), list))
        if len(loc) == 1 and key in _PROJECT_SETTINGS and setting:
            loaded.report("OPS102", path, _project_setting(key, detail.get("input")), key=True)
            return
        allowed = _allowed_keys(loc[:-1])
        meant = _MEANT.get(key.strip().lower())
        if meant in allowed:  # `phone` for `mobile`: say the word and every key allowed
            suggestion = _("; did you mean `{word}`?").format(word=meant)
        else:
            suggestion = _did_you_mean(key, allowed)
        listing = (
            _(" (allowed here: {keys})").format(keys=words(allowed))
            if allowed and (not suggestion or meant in allowed)
            else ""
        )
        loaded.report(
            "OPS102",
            path,
            _("unknown key `{key}`").format(key=key) + suggestion + listing,
            key=True,
        )
        return
    value = _shown(detail.get("input"))
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        ctx = detail.get("ctx", {})
        choices = re.findall(
            r"'([^']*)'", str(ctx.get("expected") or ctx.get("expected_tags") or "")
        )
        rule = "OPS106" if path in (("apiVersion",), ("kind",)) else "OPS104"
        if kind == "union_tag_invalid":
            value = _shown(ctx.get("tag"))
            path = (*path, "kind") if isinstance(loaded.data, dict) and path else path
        ascii_operator = _OPERATORS.get(value.strip())
        field = _leaf(path)
        aliases = CHOICES.get(field, {})
        if aliases and set(choices) <= set(aliases):  # 试点中 is close to 试点: say both words
            listed = [
                _("{value} ({alias})").format(value=c, alias=aliases[c][0]) if aliases.get(c) else c
                for c in choices
            ]
            hint = _did_you_mean(value, every_word(field)) or _("; write one of: {choices}").format(
                choices=words(listed)
            )
        else:
            hint = (
                _("; write `{operator}`").format(operator=ascii_operator)
                if ascii_operator in choices
                else _did_you_mean(value, choices)
                or _("; write one of: {choices}").format(choices=words(choices))
            )
        loaded.report(
            rule,
            path,
            _("`{value}` is not allowed for `{key}`").format(value=value, key=_leaf(path)) + hint,
        )
        return
    if kind == "union_tag_not_found":
        loaded.report(
            "OPS101",
            path,
            _(
                "`kind` is required in `{where}`; "
                "add `kind: proportion`, `kind: mean` or `kind: ratio`"
            ).format(where=format_path(path)),
        )
        return
    if kind == "duration":
        loaded.report("OPS105", path, detail["msg"])
        return
    if kind == "schedule":
        loaded.report("OPS107", path, detail["msg"])
        return
    if kind in ("hours", "days"):  # business-hour calendars (SPEC 12): the reason in words
        loaded.report(
            "OPS103", path, _("`{name}`: {problem}").format(name=name, problem=detail["msg"])
        )
        return
    count = _count_field(path)
    if count and kind in (*_NUMBER_KINDS, "int_from_float"):
        if isinstance(detail.get("input"), int | float):
            return  # 1.5 or 0: OPS309 says it once, with a whole-number fix
        # `五百`, `3次`: a count of runs or rows is a whole number, not a share like 0.35
        loaded.report(
            "OPS103",
            path,
            _("`{name}`: expected a whole number, {got}; write digits, e.g. `{example}`").format(
                name=name,
                got=_("got `{value}`").format(value=value),
                example="for: 3" if count == "for" else "min_n: 200",
            ),
        )
        return
    measure = _duration_measure(loaded.data, path)
    if measure and kind in _NUMBER_KINDS:
        # `95%` or `0.35` would be wrong advice: p50_s / p95_s are seconds
        loaded.report(
            "OPS103",
            path,
            _(
                "`{name}`: the threshold of `{measure}` is a time in seconds, {got}; "
                "write e.g. 7200 or 2h"
            ).format(name=name, measure=measure, got=_("got `{value}`").format(value=value)),
        )
        return
    loaded.report(
        "OPS103",
        path,
        _("`{name}`: {problem}").format(name=name, problem=_describe(kind, detail, value)),
    )


_NUMBER_KINDS = frozenset({"float_parsing", "float_type", "int_parsing", "int_type"})


def _count_field(path: Path) -> str | None:
    """`for` or `min_n` when `path` is one of an alert's counts (runs, rows), else None."""
    if len(path) == 3 and path[0] == "alerts" and path[2] in ("for", "min_n"):
        return str(path[2])
    return None


def _duration_measure(data: Any, path: Path) -> str | None:
    """The measure as written (`耗时P95`) when `path` is the threshold of an alert on a duration
    measure (p50_s, p95_s), else None."""
    if len(path) != 3 or path[0] != "alerts" or path[2] != "threshold":
        return None
    alerts = data.get("alerts") if isinstance(data, dict) else None
    alert = alerts[path[1]] if isinstance(alerts, list) and isinstance(path[1], int) else None
    written = alert.get("measure") if isinstance(alert, dict) else None
    return str(written) if canonical("measure", written) in DURATIONS else None


# Comparison signs typed with a Chinese input method or a maths habit.
_OPERATORS = {
    "≤": "<=",
    "≥": ">=",
    "＜": "<",
    "＞": ">",
    "=<": "<=",
    "=>": ">=",
    "≦": "<=",
    "≧": ">=",
}


def _describe(kind: str, detail: dict[str, Any], value: str) -> str:
    ctx = detail.get("ctx", {})
    got = (
        _("got nothing (the value is empty)")
        if detail.get("input", "") is None
        else _("got `{value}`").format(value=value)
    )
    if kind == "string_pattern_mismatch":
        if "a-z0-9-" in str(ctx.get("pattern", "")):
            return _(
                "`{value}` is not a valid playbook id; "
                "use lowercase letters, digits and `-` (e.g. new-user-onboarding)"
            ).format(value=value)
        return _(
            "`{value}` is not a valid id; write one word without spaces, commas, colons, "
            "brackets, `#`, `|` or quotes (e.g. push-content or 推送内容)"
        ).format(value=value)
    if kind == "string_type":
        return _("expected text, {got}; quote it").format(got=got)
    if kind == "finite_number":
        return _("expected a finite number, {got}; infinity and NaN cannot be measured").format(
            got=got
        )
    if kind in (
        "float_parsing",
        "float_type",
        "int_parsing",
        "int_type",
        "int_from_float",
    ):
        percent = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*[%％]\s*", str(detail.get("input")))
        if percent:
            return _("expected a number, {got}; write {rate} for {value}").format(
                got=got, rate=f"{float(percent.group(1)) / 100:g}", value=value
            )
        return _("expected a number, {got}; write e.g. 0.35 (not 35% or text)").format(got=got)
    if kind.startswith("date"):  # date_* and datetime_*
        return _("expected a date, {got}; write it as YYYY-MM-DD").format(got=got)
    if kind == "list_type":
        return _("expected a list, {got}; write `[a, b]` or one `- item` per line").format(got=got)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("expected a mapping of keys, {got}").format(got=got)
    if kind in ("too_short", "string_too_short"):
        if isinstance(detail.get("input"), str):
            return _("is empty; write the text, or remove the key if it is optional")
        return _("needs at least one entry")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bounds = {
            "greater_than": _("`{value}` must be more than {limit}"),
            "greater_than_equal": _("`{value}` must be at least {limit}"),
            "less_than": _("`{value}` must be less than {limit}"),
            "less_than_equal": _("`{value}` must be at most {limit}"),
        }
        limit = next(iter(ctx.values()), "")
        return bounds[kind].format(value=value, limit=limit)
    if kind == "bool_type" or kind == "bool_parsing":
        return _("expected true or false, {got}").format(got=got)
    if kind == "value_error":  # a validator of the model said what is wrong, in our words
        return str(ctx.get("error", detail["msg"]))
    return _("this value cannot be used here ({got})").format(got=got)


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path:
    """Follow `loc` through the data, skipping segments that are not in it."""
    path: list[str | int] = []
    current = data
    for segment in loc:
        if isinstance(current, dict) and isinstance(segment, str) and segment in current:
            path.append(segment)
            current = current[segment]
        elif isinstance(current, list) and isinstance(segment, int) and 0 <= segment < len(current):
            path.append(segment)
            current = current[segment]
        elif segment == loc[-1] and isinstance(current, dict) and isinstance(segment, str):
            path.append(segment)  # a missing or unknown key: keep its name
            break
    return tuple(path)


def _model_at(loc: tuple[Any, ...]) -> Any:
    """The model class (or type) that pydantic was validating at `loc`."""
    current: Any = Playbook
    for segment in loc:
        current = _unwrap(current, segment)
        if current is None:
            return None
    return current


def _unwrap(annotation: Any, segment: Any) -> Any:
    annotation = _strip_annotated(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if segment in (name, field.alias):
                return field.annotation
        return None
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is list and isinstance(segment, int):
        return args[0]
    if origin in (Union, types.UnionType):
        for member in args:
            if any(getattr(tag, "tag", None) == segment for tag in _metadata(member)):
                return member  # a callable discriminator's tag (`fallback` one or a list)
            inner = _strip_annotated(member)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                kind = inner.model_fields.get("kind")
                if kind is not None and segment in get_args(kind.annotation):
                    return inner  # a discriminator tag selects the member
                found = _unwrap(inner, segment)
                if found is not None:
                    return found
            elif get_origin(inner) is list:
                return _unwrap(inner, segment)
        if len(args) == 1:
            return _unwrap(args[0], segment)
    return None


def _metadata(annotation: Any) -> tuple[Any, ...]:
    return getattr(annotation, "__metadata__", ())


def _strip_annotated(annotation: Any) -> Any:
    while hasattr(annotation, "__metadata__"):
        annotation = get_args(annotation)[0]
    return annotation


# Project settings (`[tool.opsplay]`) written at the top of a playbook: the message says
# where they go. `lang` is left out: a playbook has its own `metadata.lang`.
_PROJECT_SETTINGS = frozenset(KNOWN_KEYS - {"lang"})
# Words people write for a key under another name (`contacts.phone` for `mobile`).
_MEANT = {
    "phone": "mobile",
    "tel": "mobile",
    "telephone": "mobile",
    "cellphone": "mobile",
    "手机": "mobile",
    "手机号": "mobile",
    "电话": "mobile",
    "钉钉": "dingtalk",
    "飞书": "feishu",
    "lark": "feishu",
    "企业微信": "wecom",
    "企微": "wecom",
    "wechat": "wecom",
    "weixin": "wecom",
}


def _project_setting(key: str, value: Any) -> str:
    """OPS102 for a project setting written in the playbook: where it belongs, as a line."""
    if isinstance(value, str) and value.strip():
        line = f"{key} = {json.dumps(value.strip(), ensure_ascii=False)}"
    elif isinstance(value, bool):
        line = f"{key} = {'true' if value else 'false'}"
    elif isinstance(value, int | float):
        line = f"{key} = {value}"
    else:
        line = ""
    example = _(" (`{line}`)").format(line=line) if line else ""
    return _(
        "`{key}` is a project setting, not a playbook key: write it under `[tool.opsplay]` "
        "in `.opsplay.toml` or `pyproject.toml`{example}, and remove it here"
    ).format(key=key, example=example)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model = _optional_model(_strip_annotated(_model_at(loc)))
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [field.alias or name for name, field in model.model_fields.items()]
    return []


def _optional_model(annotation: Any) -> Any:
    """The model of an optional section (`contacts: Contacts | None`), else `annotation`."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _strip_annotated(members[0])
    return annotation


def _field_hint(loc: tuple[Any, ...], key: str) -> str:
    model = _optional_model(_strip_annotated(_model_at(loc[:-1])))
    if isinstance(model, type) and issubclass(model, BaseModel):
        for name, field in model.model_fields.items():
            if key in (name, field.alias) and field.description:
                said = _(field.description)
                if said == field.description and message_language() != "en":
                    return ""  # a description the catalogue does not hold: no English inside
                return _(" — {hint}").format(hint=said.rstrip(".。"))
    return ""


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return _("; did you mean `{word}`?").format(word=close[0]) if close else ""


def _shown(value: Any) -> str:
    """The value as the user wrote it (never a Python repr such as None or True)."""
    source = getattr(value, "yaml_source", None)
    if source is not None:
        return source
    if value is None:
        return _("an empty value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _("a mapping") if isinstance(value, dict) else _("a list")
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _leaf(path: Path) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return _("value")
