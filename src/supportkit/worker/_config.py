"""The worker's settings: a TOML file, environment variables over it, checked up front.

Every setting has one name in the file and one environment variable
(:data:`ENVIRONMENT`); a variable set in the environment wins over the file,
so secrets can stay out of it. A bad setting is a :class:`WorkerConfigError`
naming where it came from and what to write instead; nothing runs until the
whole configuration reads.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .._duration import parse_duration
from ..domain._errors import ConfigurationError, ValidationError
from ..domain._redact import redact_url

__all__ = [
    "ENVIRONMENT",
    "AutoCloseSettings",
    "MailboxSettings",
    "RelaySettings",
    "ReprocessSettings",
    "TimerSettings",
    "WorkerConfig",
    "WorkerConfigError",
    "load_config",
]


class WorkerConfigError(ConfigurationError):
    """The worker's configuration (file or environment) cannot be used as written."""


@attrs.frozen
class TimerSettings:
    """Due timers (SLA warnings and breaches, reminders, delivery retries): ``desk.tick()``."""

    enabled: bool = True
    interval: float = 5.0
    batch: int = 500


@attrs.frozen
class RelaySettings:
    """The outbox relayed to a broker (``amqp://`` RabbitMQ, ``redis://`` Redis Streams)."""

    url: str | None = attrs.field(default=None, repr=lambda u: repr(u and redact_url(u)))
    interval: float = 1.0
    batch: int = 500
    lease: float = 30.0

    @property
    def enabled(self) -> bool:
        return self.url is not None


@attrs.frozen
class MailboxSettings:
    """One IMAP mailbox polled into the desk through an email channel named *channel*."""

    url: str = attrs.field(repr=lambda u: repr(redact_url(u)))
    address: str | None = None
    channel: str = "email"
    interval: float = 30.0


@attrs.frozen
class ReprocessSettings:
    """Stored inbound left unprocessed (a process died) or failed: mail and webhook raws.

    *mail_channels*: the email channels whose raw mail is reprocessed (default:
    the mailboxes' channels, else ``email``). *webhook*: webhook raws too
    (default: when ``supportkit[web]`` is installed). *phone*: kept call records.
    """

    enabled: bool = True
    interval: float = 60.0
    batch: int = 100
    mail_channels: tuple[str, ...] | None = None
    webhook: bool | None = None
    phone: bool = True


@attrs.frozen
class AutoCloseSettings:
    """Resolved tickets closed *after* seconds past their resolution (None: never)."""

    after: float | None = None
    interval: float = 300.0
    batch: int = 200
    actor: str = "supportkit-worker"
    reason: str = "closed automatically after resolution"

    @property
    def enabled(self) -> bool:
        return self.after is not None


@attrs.frozen
class WorkerConfig:
    """What ``supportkit worker`` runs; build it with :func:`load_config`.

    *storage_url*: the desk's database (``postgresql://...``, ``sqlite:///...``).
    *desk*: ``"package.module:factory"``, the host's function that builds its
    desk (with its extensions, channels and timer handlers); it is called with
    the storage opened from *storage_url*, or with no argument when there is
    none. Without it the worker builds a plain ``SupportDesk(storage)``.
    """

    storage_url: str | None = attrs.field(default=None, repr=lambda u: repr(u and redact_url(u)))
    desk: str | None = None
    timers: TimerSettings = TimerSettings()
    relay: RelaySettings = RelaySettings()
    mailboxes: tuple[MailboxSettings, ...] = ()
    reprocess: ReprocessSettings = ReprocessSettings()
    auto_close: AutoCloseSettings = AutoCloseSettings()
    log_level: str = "info"


#: each environment variable and the setting it overrides: (section or "", key)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "SUPPORTKIT_STORAGE_URL": ("", "storage_url"),
    "SUPPORTKIT_DESK": ("", "desk"),
    "SUPPORTKIT_TIMERS": ("timers", "enabled"),
    "SUPPORTKIT_TIMERS_INTERVAL": ("timers", "interval"),
    "SUPPORTKIT_TIMERS_BATCH": ("timers", "batch"),
    "SUPPORTKIT_RELAY_URL": ("relay", "url"),
    "SUPPORTKIT_RELAY_INTERVAL": ("relay", "interval"),
    "SUPPORTKIT_RELAY_BATCH": ("relay", "batch"),
    "SUPPORTKIT_RELAY_LEASE": ("relay", "lease"),
    "SUPPORTKIT_IMAP_URL": ("mailboxes", "url"),
    "SUPPORTKIT_IMAP_ADDRESS": ("mailboxes", "address"),
    "SUPPORTKIT_IMAP_CHANNEL": ("mailboxes", "channel"),
    "SUPPORTKIT_IMAP_INTERVAL": ("mailboxes", "interval"),
    "SUPPORTKIT_REPROCESS": ("reprocess", "enabled"),
    "SUPPORTKIT_REPROCESS_INTERVAL": ("reprocess", "interval"),
    "SUPPORTKIT_REPROCESS_BATCH": ("reprocess", "batch"),
    "SUPPORTKIT_REPROCESS_MAIL_CHANNELS": ("reprocess", "mail_channels"),
    "SUPPORTKIT_REPROCESS_WEBHOOK": ("reprocess", "webhook"),
    "SUPPORTKIT_REPROCESS_PHONE": ("reprocess", "phone"),
    "SUPPORTKIT_AUTO_CLOSE_AFTER": ("auto_close", "after"),
    "SUPPORTKIT_AUTO_CLOSE_INTERVAL": ("auto_close", "interval"),
    "SUPPORTKIT_AUTO_CLOSE_BATCH": ("auto_close", "batch"),
    "SUPPORTKIT_AUTO_CLOSE_ACTOR": ("auto_close", "actor"),
    "SUPPORTKIT_AUTO_CLOSE_REASON": ("auto_close", "reason"),
    "SUPPORTKIT_LOG_LEVEL": ("log", "level"),
}

_SECTIONS: dict[str, type[Any]] = {
    "timers": TimerSettings,
    "relay": RelaySettings,
    "reprocess": ReprocessSettings,
    "auto_close": AutoCloseSettings,
}
_TOP = ("storage_url", "desk", "timers", "relay", "mailboxes", "reprocess", "auto_close", "log")
_LEVELS = ("debug", "info", "warning", "error")
_OFF = ("", "off", "none", "never", "false", "no", "0")


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> WorkerConfig:
    """The worker's configuration from the TOML file at *path* (optional) and *environ*
    (default: ``os.environ``), whose ``SUPPORTKIT_*`` variables win over the file."""
    data: dict[str, Any] = {}
    origin: dict[tuple[str, str], str] = {}
    if path is not None:
        data = _read_toml(Path(path))
        for section, value in data.items():
            keys = value if isinstance(value, dict) else {"": value}
            for key in keys:
                where = f"[{section}] {key}" if key else section
                origin[(section if key else "", key or section)] = f"{path}: {where}"
    env = os.environ if environ is None else environ
    _overlay(data, origin, env)
    return _build(data, origin)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise WorkerConfigError(
            f"no worker configuration at {str(path)!r}: pass --config with the path of a "
            "TOML file, or configure the worker with SUPPORTKIT_* environment variables"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkerConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise WorkerConfigError(f"cannot read {path}: {exc.strerror}") from None


def _overlay(
    data: dict[str, Any], origin: dict[tuple[str, str], str], env: Mapping[str, str]
) -> None:
    mailbox: dict[str, str] = {}
    for name, (section, key) in ENVIRONMENT.items():
        if name not in env:
            continue
        origin[(section, key)] = f"environment variable {name}"
        if section == "":
            data[key] = env[name]
        elif section == "mailboxes":
            mailbox[key] = env[name]
        else:
            table = data.setdefault(section, {})
            if not isinstance(table, dict):
                raise WorkerConfigError(f"{section} must be a table ([{section}]) in the file")
            table[key] = env[name]
    if mailbox:
        if "url" not in mailbox:
            raise WorkerConfigError(
                f"{', '.join('SUPPORTKIT_IMAP_' + k.upper() for k in mailbox)} set without "
                "SUPPORTKIT_IMAP_URL: set it to imap(s)://user:password@host/INBOX"
            )
        urls = mailbox.pop("url").split()
        data["mailboxes"] = [{"url": u, **mailbox} for u in urls]  # the environment's replace


def _build(data: dict[str, Any], origin: dict[tuple[str, str], str]) -> WorkerConfig:
    unknown = sorted(set(data) - set(_TOP))
    if unknown:
        raise WorkerConfigError(
            f"unknown worker setting(s) {unknown}; the settings are {list(_TOP)} "
            "(see docs/production.md)"
        )
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        sections[name] = _section(name, cls, data.get(name, {}), origin)
    log = data.get("log", {})
    if not isinstance(log, dict) or set(log) - {"level"}:
        raise WorkerConfigError('[log] takes one setting, level = "info"')
    level = str(log.get("level", "info")).lower()
    if level not in _LEVELS:
        raise WorkerConfigError(
            f"{_where(origin, 'log', 'level')}: log level {level!r} is not one of {list(_LEVELS)}"
        )
    mailboxes = tuple(
        _mailbox(i, value, origin) for i, value in enumerate(_list(data.get("mailboxes", [])))
    )
    config = WorkerConfig(
        storage_url=_text(data, "", "storage_url", origin),
        desk=_text(data, "", "desk", origin),
        mailboxes=mailboxes,
        log_level=level,
        **sections,
    )
    if config.storage_url is None and config.desk is None:
        raise WorkerConfigError(
            "the worker needs the desk's database: set storage_url in the file or "
            "SUPPORTKIT_STORAGE_URL (postgresql://user@host/db or sqlite:///path/desk.db), "
            "or desk = 'package.module:factory' that builds the desk with its storage"
        )
    if config.desk is not None and (":" not in config.desk or not all(config.desk.split(":", 1))):
        raise WorkerConfigError(
            f"{_where(origin, '', 'desk')}: {config.desk!r} does not name a factory; write "
            "'package.module:build_desk' (a function returning the host's SupportDesk)"
        )
    return config


def _list(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise WorkerConfigError("mailboxes are tables: write [[mailboxes]] with url = ...")
    return value


def _where(origin: Mapping[tuple[str, str], str], section: str, key: str) -> str:
    default = f"[{section}] {key}" if section else key
    return origin.get((section, key), default)


def _text(data: Mapping[str, Any], section: str, key: str, origin: Any) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WorkerConfigError(f"{_where(origin, section, key)} must be a string, got {value!r}")
    return value.strip() or None


def _section(name: str, cls: type[Any], values: Any, origin: Any) -> Any:
    if not isinstance(values, dict):
        raise WorkerConfigError(f"{name} must be a table: write [{name}] and its settings")
    fields = {f.name: f for f in attrs.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise WorkerConfigError(
            f"[{name}] has unknown setting(s) {unknown}; its settings are {sorted(fields)}"
        )
    return cls(**{k: _value(name, k, v, origin) for k, v in values.items()})


def _mailbox(i: int, values: Any, origin: Any) -> MailboxSettings:
    if not isinstance(values, dict):
        raise WorkerConfigError("each mailbox is a table: write [[mailboxes]] with url = ...")
    known = {f.name for f in attrs.fields(MailboxSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise WorkerConfigError(
            f"mailbox {i + 1} has unknown setting(s) {unknown}; its settings are {sorted(known)}"
        )
    if not values.get("url"):
        raise WorkerConfigError(
            f"mailbox {i + 1} has no url: write url = 'imaps://user:password@host/INBOX'"
        )
    parsed = {k: _value("mailboxes", k, v, origin) for k, v in values.items()}
    try:  # the URL is checked now, not at the first poll
        from ..channels.email import poller_from

        poller_from(parsed["url"])
    except ImportError as exc:
        raise WorkerConfigError(
            f"mailbox {i + 1}: polling IMAP needs supportkit[email] ({exc})"
        ) from None
    except ConfigurationError as exc:
        raise WorkerConfigError(f"mailbox {i + 1}: {exc}") from None
    return MailboxSettings(**parsed)


def _value(section: str, key: str, value: Any, origin: Any) -> Any:
    where = _where(origin, section, key)
    try:
        if key in ("interval", "lease") or (section, key) == ("auto_close", "after"):
            return _seconds(value, optional=(section, key) == ("auto_close", "after"))
        if key == "batch":
            return _positive_int(value)
        if key in ("enabled", "webhook", "phone"):
            return _flag(value)
        if key == "mail_channels":
            names = value.split(",") if isinstance(value, str) else value
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValidationError('write a list of channel names, e.g. ["email"]')
            return tuple(n.strip() for n in names if n.strip())
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"write a non-empty string, not {value!r}")
        return value.strip()
    except (ValidationError, ConfigurationError) as exc:
        shown = redact_url(value) if isinstance(value, str) else value
        raise WorkerConfigError(f"{where} = {shown!r}: {exc}") from None


def _seconds(value: Any, *, optional: bool) -> float | None:
    if optional and (value is False or (isinstance(value, str) and value.strip().lower() in _OFF)):
        return None
    if isinstance(value, bool):
        raise ValidationError("write a duration like 30s, 5m, 7d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value)  # a bare number is seconds, as in the file
        except ValueError:
            seconds = parse_duration(value).total_seconds()
    else:
        raise ValidationError("write a duration like 30s, 5m, 7d")
    if seconds <= 0:
        raise ValidationError(
            "a duration must be more than zero" + (" (or off)" if optional else "")
        )
    return seconds


def _positive_int(value: Any) -> int:
    try:
        number = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else 0
    except ValueError:
        number = 0
    if number < 1:
        raise ValidationError("write a whole number of 1 or more")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValidationError("write true or false (on/off)")
