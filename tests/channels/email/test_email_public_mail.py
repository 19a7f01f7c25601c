"""Public test mail from other projects (tests/data/mail/): parsed, and their expectations met.

Every message is parsed or refused with ``MalformedMessage``, never another exception. The
expectations the upstream tests state are checked; the few that are not met are listed in
``KNOWN`` with the reason, and the test fails when one of them starts passing (update the
list) or when anything else fails. Run with ``-s`` to see the accuracy table, or
``python benchmarks/mail_accuracy.py``.
"""

from __future__ import annotations

import pytest

from ._public_mail import DEV, HELD_OUT, evaluate, misses, sources, table

#: (source, file or case) -> why the upstream expectation is not met
KNOWN: dict[tuple[str, str], str] = {
    ("php-mime-mail-parser", "m0021"): (
        "upstream expects a space kept between two adjacent encoded words ('Пут ін'); "
        "RFC 2047 6.2 says such whitespace is not displayed: 'Путін'"
    ),
    ("crisp-email-reply-parser", "email_with_regards.txt"): (
        "by design: a closing ('Regards,' + name) without a '-- ' delimiter is kept in the "
        "visible text; it can carry content, and the sender wrote it now"
    ),
}


def test_sources_are_split_into_dev_and_held_out() -> None:
    assert set(sources()) == set(DEV) | HELD_OUT
    assert not set(DEV) & HELD_OUT


@pytest.mark.parametrize("source", [*DEV, *sorted(HELD_OUT)])
def test_public_mail_parses_and_meets_upstream_expectations(source: str) -> None:
    outcomes = evaluate(source)
    print("\n" + table({source: outcomes}))
    assert outcomes, f"no messages found for {source}"
    crashed = [f"{o.name}: {o.crashed}" for o in outcomes if o.crashed]
    assert not crashed, f"exceptions outside MalformedMessage: {crashed}"
    failing = {o.name for o in outcomes if o.missed}
    known = {name for (src, name) in KNOWN if src == source}
    unexpected = failing - known
    assert not unexpected, "\n".join(misses({source: [o for o in outcomes if o.missed]}))
    fixed = known - failing
    assert not fixed, f"now passing, remove from KNOWN: {sorted(fixed)}"
