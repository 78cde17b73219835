"""Time limits (`sla`) in the forms operations people write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

ACCEPTED_FORMS = (
    "30s, 2m, 24h, 3d, 1h30m; ISO 8601 such as PT2M; "
    "30秒, 2分钟, 24小时, 3天, 2分钟内; realtime or 实时"
)

_COMPACT = re.compile(
    r"(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?"
)
_ISO = re.compile(
    r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_UNIT_SECONDS = (86400, 3600, 60, 1)  # days, hours, minutes, seconds: the groups of both patterns
_CHINESE_UNITS = {
    "天": 86400,
    "日": 86400,
    "小时": 3600,
    "个小时": 3600,
    "时": 3600,
    "分钟": 60,
    "分": 60,
    "秒钟": 1,
    "秒": 1,
}
_CHINESE_PART = re.compile(r"(\d+(?:\.\d+)?)(个小时|小时|时|分钟|分|秒钟|秒|天|日)")
_REALTIME_WORDS = {"realtime", "real-time", "实时"}


@dataclass(frozen=True)
class Duration:
    """A time limit: the text as written, and its length in seconds (None for realtime)."""

    text: str
    seconds: float | None

    @property
    def realtime(self) -> bool:
        """True for `realtime` / `实时`, whose limit comes from configuration."""
        return self.seconds is None

    def resolve(self, realtime_seconds: float = 1.0) -> float:
        """Length in seconds, with realtime meaning `realtime_seconds`."""
        return realtime_seconds if self.seconds is None else self.seconds

    def __str__(self) -> str:
        return self.text

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(
            _validate_duration,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda d: d.text),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "description": f"A time limit. Accepted forms: {ACCEPTED_FORMS}.",
            "examples": ["2m", "24h", "1h30m", "PT2M", "2分钟内", "实时"],
        }


_ENGLISH_WORDS = re.compile(r"(\d+(?:\.\d+)?)(days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)")


def parse_duration(text: str) -> Duration:
    """Parse a time limit; raise ValueError quoting the accepted forms."""
    cleaned = text.strip()
    lowered = cleaned.lower().replace(" ", "")
    if lowered in _REALTIME_WORDS:
        return Duration(cleaned, None)
    if not lowered:
        raise ValueError(f"the time limit is empty; write one of: {ACCEPTED_FORMS}")
    seconds = _parse_seconds(lowered)
    if seconds == 0:
        raise ValueError(f"`{text}` is zero; a time limit must be longer than that (e.g. 30s, 2m)")
    if seconds is None or seconds < 0:
        words = _ENGLISH_WORDS.fullmatch(lowered)
        if words:  # "2 hours", "30 mins": say exactly what to write
            number, unit = words.group(1), words.group(2)[0]
            chinese = {"d": "天", "h": "小时", "m": "分钟", "s": "秒"}[unit]
            raise ValueError(f"`{text}`: write {number}{unit} or {number}{chinese}")
        raise ValueError(
            f"`{text}` is not a time limit opsplay understands; write one of: {ACCEPTED_FORMS}"
        )
    return Duration(cleaned, seconds)


def _parse_seconds(text: str) -> float | None:
    """Seconds of a non-empty compact, ISO 8601 or Chinese time limit; None if it is none of them."""
    for pattern in (_COMPACT, _ISO):
        match = pattern.fullmatch(text.upper() if pattern is _ISO else text)
        if match and any(match.groups()):
            return sum(
                float(part) * unit
                for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
                if part
            )
    chinese = text.removesuffix("以内").removesuffix("内")
    parts = _CHINESE_PART.findall(chinese)
    if parts and "".join(number + unit for number, unit in parts) == chinese:
        return sum(float(number) * _CHINESE_UNITS[unit] for number, unit in parts)
    return None


def _validate_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        shown = getattr(value, "yaml_source", value)
        raise PydanticCustomError(
            "duration",
            "`{value}` has no unit; write a time limit such as {forms}",
            {"value": str(shown), "forms": ACCEPTED_FORMS},
        )
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from None
