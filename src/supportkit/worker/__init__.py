"""supportkit.worker: the production loops of a desk, as ``supportkit worker`` runs them.

Due timers, the outbox relay to a broker, IMAP mailbox polling,
reprocessing of stored-but-unprocessed inbound, and auto-closing resolved
tickets, from a TOML file or ``SUPPORTKIT_*`` environment variables
(:func:`load_config`). Any number of workers may run on one database: every
decision is taken in it. See ``docs/production.md``.

>>> from supportkit.worker import Worker, load_config
>>> config = load_config(environ={"SUPPORTKIT_STORAGE_URL": "memory://",
...                               "SUPPORTKIT_AUTO_CLOSE_AFTER": "7d"})
>>> config.auto_close.after / 86400
7.0
"""

from ._config import (
    ENVIRONMENT,
    AutoCloseSettings,
    MailboxSettings,
    RelaySettings,
    ReprocessSettings,
    TimerSettings,
    WorkerConfig,
    WorkerConfigError,
    load_config,
)
from ._log import ActionLog, JsonFormatter, log_to
from ._loops import (
    AutoCloseLoop,
    Loop,
    MailboxLoop,
    RelayLoop,
    ReprocessLoop,
    Source,
    TimerLoop,
    mail_source,
    phone_source,
    take_turn,
    webhook_source,
)
from ._runner import Worker, build_desk, default_loops

__all__ = [
    "ENVIRONMENT",
    "ActionLog",
    "AutoCloseLoop",
    "AutoCloseSettings",
    "JsonFormatter",
    "Loop",
    "MailboxLoop",
    "MailboxSettings",
    "RelayLoop",
    "RelaySettings",
    "ReprocessLoop",
    "ReprocessSettings",
    "Source",
    "TimerLoop",
    "TimerSettings",
    "Worker",
    "WorkerConfig",
    "WorkerConfigError",
    "build_desk",
    "default_loops",
    "load_config",
    "log_to",
    "mail_source",
    "phone_source",
    "take_turn",
    "webhook_source",
]
