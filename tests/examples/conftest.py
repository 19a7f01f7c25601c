"""What the browser tests of the examples share: Chromium, and an app served by uvicorn."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .cdp import find_chromium, in_ci


@pytest.fixture
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail("CI must run the browser test, but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """*app* served by uvicorn (with its lifespan) on *port* until the block ends."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the example app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def text_in(selector: str, fragment: str) -> str:
    """A page expression: some element matching *selector* contains *fragment*."""
    return (
        f"[...document.querySelectorAll({selector!r})]"
        f".some(el => el.textContent.includes({fragment!r}))"
    )
