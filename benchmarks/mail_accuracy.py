"""Parser accuracy on public test mail nobody on supportkit wrote (issue 12).

Parses every message in tests/data/mail/ and checks the expectations the upstream projects'
own tests state for it (subject, sender, visible reply, attachments, ...); prints, per
source, how many were parsed, refused (MalformedMessage) or crashed, and the expectations
met. ``--held-out`` adds the held-out set (see tests/data/mail/README.md); ``--misses``
lists every unmet expectation. Not a speed benchmark: no timing.

    .venv/bin/python benchmarks/mail_accuracy.py [--held-out] [--misses]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.channels.email._public_mail import (
    HELD_OUT,
    evaluate,
    misses,
    sources,
    table,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", action="store_true", help="measure the held-out set too")
    parser.add_argument("--misses", action="store_true", help="list every unmet expectation")
    args = parser.parse_args()
    chosen = [s for s in sources() if args.held_out or s not in HELD_OUT]
    results = {s: evaluate(s) for s in chosen}
    print(table(results))
    if args.misses:
        print()
        print("\n".join(misses(results)) or "(none)")


if __name__ == "__main__":
    main()
