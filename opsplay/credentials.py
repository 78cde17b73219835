"""Credentials in what opsplay shows: URLs with their secrets masked, known secrets scrubbed
from any text (a robot's error body, a driver's message) before it is printed or stored.

One rule for every URL opsplay prints, stores or records (robot webhooks, `--db` URLs, a URL
given by mistake as a file): the password of the user info, the value of every query key
that names a credential (`password`, `token`, `key`, `secret`, `sign`, …, also
percent-encoded), and the fragment become `***`. Imports nothing beyond the standard library.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote_plus

MASK = "***"
# Words that make a query key (or a `key=value` / `"key": "value"` in a text) a credential.
_SECRET_WORDS = ("pass", "pwd", "token", "key", "secret", "sign", "sig", "auth", "credential")
# Patterns are compiled when first used, through `re`'s cache (at import they cost every
# command's start-up, most of which never print a URL).
_SCHEME = r"(?s)^([A-Za-z][A-Za-z0-9+.\-]*:/+)(.*)$"
_URL_IN_TEXT = r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+"
_KEY_VALUE = (
    r"(?i)(?P<key>[\w.\-]*(?:" + "|".join(_SECRET_WORDS) + r")[\w.\-]*)"
    r"(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s&,;\"'<>]+)"
)
# `password=…` as libpq key=value strings write it (a value may be quoted: 'p w\\'d').
_PASSWORD_PAIR = (
    r"(?i)\b(?P<key>\w*(?:password|passwd|pwd))(?P<sep>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&;,)'\"]+)"
)
_AUTH_HEADER = r"(?i)\b(basic|bearer|token)\s+[A-Za-z0-9+/=._~\-]{8,}"


def is_secret_key(key: str) -> bool:
    """Whether a query key names a credential (`access_token`, `Password`, `api%5Fkey`)."""
    word = re.sub(r"[^a-z]", "", unquote_plus(key).lower())
    return any(secret in word for secret in _SECRET_WORDS)


def _split(url: str) -> tuple[str, str | None, str] | None:
    """(scheme with its slashes, the user info or None, the rest) of a URL, None if it has no
    scheme.

    The user info ends at the last `@` of the authority, which ends at the first `/` after
    `//`, as libpq finds it: a raw `?`, `#` or `@` in a password is part of it. A password
    holding a raw `/` (SQLAlchemy reads it up to the first `@`) or an `@` before the query
    still counts: the candidate that masks the most wins.
    """
    match = re.match(_SCHEME, url)
    if not match:
        return None
    scheme, rest = match.groups()
    if rest.startswith("/"):
        return scheme, None, rest
    slash = rest.find("/")
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    candidates = [
        rest.rfind("@", 0, slash if slash >= 0 else len(rest)),  # libpq: the authority
        rest.rfind("@", 0, cut),  # before the query or fragment
    ]
    sqlalchemy = re.match(r"[^:/@]*:[^@]*@", rest)  # user:password@, a `/` in the password
    if sqlalchemy:  # and a raw `@` too: up to the last `@` before the next `/`
        slash = rest.find("/", sqlalchemy.end())
        candidates.append(rest.rfind("@", 0, slash if slash >= 0 else len(rest)))
    at = max(candidates)
    if at < 0:
        return scheme, None, rest
    return scheme, rest[:at], rest[at + 1 :]


def mask_url(url: str, *, keep_user: bool = True, every_query_value: bool = False) -> str:
    """`url` with its password, credential query values and fragment as `***`.

    The user info is found as libpq finds it (`_split`), so a raw `@`, `?` or `#` in a
    password is masked whole; the user name stays unless `keep_user` is false (a robot
    URL's user info is all secret) or it holds a `?`/`#` (then only what comes before).
    """
    split = _split(url)
    if split is None:
        return url
    scheme, userinfo, rest = split
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    where, tail = rest[:cut], rest[cut:]
    if userinfo is not None:
        name, colon, _password = userinfo.partition(":")
        odd = min((i for i in (name.find("?"), name.find("#")) if i >= 0), default=-1)
        if not keep_user or not name:
            user = MASK
        elif odd >= 0:  # `host?token=abc@x`: a query, not a name
            user = name[: odd + 1] + MASK
        else:
            user = f"{name}:{MASK}" if colon else name
        where = f"{user}@{where}"
    query, hash_sign, fragment = tail.partition("#")
    if query.startswith("?"):
        pairs = []
        for pair in query[1:].split("&"):
            key, equals, value = pair.partition("=")
            secret = every_query_value or is_secret_key(key) or (not equals and len(key) >= 16)
            pairs.append(f"{key}={MASK}" if secret and (value or not equals) else pair)
        query = "?" + "&".join(pairs)
    return scheme + where + query + (hash_sign + MASK if fragment else "")


def secrets_of_url(url: str) -> list[str]:
    """The secret parts of a URL (password, credential query values) in every form a server
    may echo them: as written, decoded, percent-encoded and inside a Basic-auth header."""
    split = _split(url)
    if split is None:
        return []
    _scheme, userinfo, rest = split
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    tail = rest[cut:]
    found: list[str] = []
    if userinfo is not None:
        name, _colon, password = userinfo.partition(":")
        found += [password, userinfo if not password else ""]
        found.append(base64.b64encode(unquote_plus(userinfo).encode()).decode("ascii"))
    query, _hash, fragment = tail.partition("#")
    for pair in query.lstrip("?").split("&"):
        key, _equals, value = pair.partition("=")
        if is_secret_key(key) or len(value) >= 16:
            found.append(value)
    found.append(fragment)
    return forms(found)


def forms(values: Iterable[str]) -> list[str]:
    """Each secret as written, decoded and percent-encoded (longest first, 4+ characters)."""
    every: set[str] = set()
    for value in values:
        if not value:
            continue
        for form in (value, unquote_plus(value), quote(value, safe=""), quote_plus(value)):
            every |= {form, form.lower(), form.upper()} if "%" in form else {form}
    return sorted((v for v in every if len(v) >= 4), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each known secret, every URL's secrets, `key=value` pairs whose key names a
    credential and Basic/Bearer credentials replaced by `***`."""
    for value in forms(secrets):
        text = text.replace(value, MASK)
    text = re.sub(_URL_IN_TEXT, lambda m: mask_url(m.group(0)), text)
    text = re.sub(_AUTH_HEADER, lambda m: f"{m.group(1)} {MASK}", text)
    return re.sub(
        _KEY_VALUE,
        lambda m: m.group(0) if m.group("value") == MASK else m["key"] + m["sep"] + MASK,
        text,
    )


def scrub_passwords(text: str) -> str:
    """`text` with the value of every `password=` / `passwd=` (a libpq key=value string given
    as `--db`, a driver's message) as `***`: what every error text goes through."""
    return re.sub(
        _PASSWORD_PAIR,
        lambda m: m.group(0) if m.group("value") == MASK else m["key"] + m["sep"] + MASK,
        text,
    )
