"""The worker alone, for a deployment where web processes do not tick:
``python examples/fastapi_desk/worker.py`` next to the web processes, on the same database."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app import build_desk, run_worker, start_relay

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    desk, _ = build_desk(sys.argv[1] if len(sys.argv) > 1 else "supportkit-fastapi.sqlite3")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    broker_url = os.environ.get("SUPPORTKIT_BROKER_URL")
    if broker_url:  # the outbox to the broker, for the web processes' live updates
        start_relay(desk, broker_url, stop)
    try:
        run_worker(desk, stop, every=5.0)
    except KeyboardInterrupt:
        pass
    finally:
        desk.storage.close()
