"""Keeping credentials out of error messages and logs.

A connection string or server URL may carry a password
(``postgresql://desk:S3cret@db/support``, ``imaps://desk:pw@mail``,
``host=db password=S3cret``). :func:`redact_url` shows it with the
password replaced; :func:`secrets_of` lists the passwords so a driver's own
error text, which may echo the string, can be cleaned with :func:`scrub`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

__all__ = ["redact_url", "scrub", "secrets_of"]

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)")
_KEYWORD_PASSWORD = re.compile(
    r"(?i)(?P<head>\b(?:password|passwd|pwd|sslpassword)\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&;]+)"
)


def secrets_of(text: str) -> list[str]:
    """The passwords in *text* (URL userinfo or ``password=`` settings), raw and decoded."""
    found: list[str] = []
    for pattern in (_URL_PASSWORD, _KEYWORD_PASSWORD):
        for m in pattern.finditer(text):
            pw = m.group("pw").strip("'")
            for value in (pw, unquote(pw)):
                if value and value not in found:
                    found.append(value)
    return found


def redact_url(text: str) -> str:
    """*text* with every password in it replaced by ``***``.

    >>> redact_url("postgresql://desk:S3cret@db.example/support?sslmode=require")
    'postgresql://desk:***@db.example/support?sslmode=require'
    >>> redact_url("host=db user=desk password=S3cret dbname=support")
    'host=db user=desk password=*** dbname=support'
    """
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _KEYWORD_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """*text* with each of *secrets* (and any password pattern) masked."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact_url(text)
