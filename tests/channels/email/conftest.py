"""Fixtures for the email channel: real dovecot IMAP + aiosmtpd SMTP on loopback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "servers"))

import mailservers


@pytest.fixture
def mail_servers() -> Iterator[tuple[Any, Any]]:
    """(dovecot, smtp): skips without dovecot locally, fails without it under CI=true."""
    if mailservers.DOVECOT is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with mailservers.running_servers() as servers:
        yield servers
