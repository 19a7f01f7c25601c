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
    (
        "php-mime-mail-parser",
        "m0021",
    ): "upstream keeps a space between two adjacent encoded words; RFC 2047 §6.2 drops it",
    (
        "talon",
        "text_quotations:danish_from_block",
    ): "not fixed yet: quote header block in Danish (Fra/Sendt/Til/Emne)",
    (
        "talon",
        "text_quotations:swedish_from_block",
    ): "not fixed yet: quote header block in Swedish (Från/Skickat/Till/Ämne)",
    (
        "talon",
        "text_quotations:from_block_starts_with_date",
    ): "not fixed yet: quote header block starting with Date:",
    (
        "talon",
        "text_quotations:weird_date_format_in_date_block",
    ): "not fixed yet: quote header block starting with Date:",
    (
        "talon",
        "text_quotations:link_closed_with_quotation_marker_on_new_line",
    ): "not fixed yet: a From: line opening the quoted message",
    (
        "talon",
        "text_quotations:norwegian_from_line",
    ): "not fixed yet: attribution line in Norwegian/Swedish (skrev:)",
    (
        "talon",
        "text_quotations:polish_from_block",
    ): "not fixed yet: attribution line wrapped over two lines",
    (
        "talon",
        "text_quotations:dutch_from_block",
    ): "not fixed yet: attribution line in Dutch (het volgende geschreven:)",
    (
        "talon",
        "text_quotations:original_message_antwort_nachricht",
    ): "not fixed yet: separator vocabulary (Antwort Nachricht)",
    (
        "talon",
        "text_quotations:original_message_oprindelig_meddelelse",
    ): "not fixed yet: separator vocabulary (Oprindelig meddelelse)",
    (
        "talon",
        "text_quotations:original_message_reply_message",
    ): "not fixed yet: separator vocabulary (Reply Message)",
    (
        "talon",
        "text_quotations:pattern_on_date_somebody_sent",
    ): "not fixed yet: attribution line before a quote block ('sent:')",
    (
        "talon",
        "text_quotations:pattern_sent_from_samsung_smb_wrote",
    ): "not fixed yet: attribution line before a quote block",
    (
        "talon",
        "text_quotations:date_time_email_splitter",
    ): "not fixed yet: attribution line before a quote block (date and address)",
    (
        "talon",
        "text_quotations:quotation_separator_takes_2_lines",
    ): "not fixed yet: attribution line wrapped over two lines",
    (
        "talon",
        "text_quotations:quotation_separator_takes_3_lines",
    ): "not fixed yet: attribution line wrapped over three lines",
    (
        "talon",
        "text_quotations:reply_after_quotations",
    ): "not fixed yet: reply written below the quote",
    (
        "talon",
        "text_quotations:reply_wraps_quotations",
    ): "not fixed yet: reply continued below the quote",
    (
        "talon",
        "text_quotations:reply_wraps_nested_quotations",
    ): "not fixed yet: reply continued below the quote",
    (
        "talon",
        "text_quotations:reply_and_quotation_splitter_share_line_1",
    ): "not fixed yet: attribution on the same line as the reply",
    (
        "talon",
        "text_quotations:reply_and_quotation_splitter_share_line_2",
    ): "not fixed yet: attribution on the same line as the reply",
    (
        "talon",
        "text_quotations:reply_and_quotation_splitter_share_line_3",
    ): "not fixed yet: attribution on the same line as the reply",
    (
        "talon",
        "text_quotations:with_indent",
    ): "not fixed yet: attribution line framed by dashes, no colon",
    (
        "talon",
        "text_quotations:dont_parse_quotations_for_forwarded_messages",
    ): "not fixed yet: a forwarded message is content, not quote",
    ("talon", "thunderbird.eml"): "not fixed yet: reply written below the quote",
    ("cpython", "msg_35.txt"): "not fixed yet: header block ends without a blank line",
}


def test_sources_are_split_into_dev_and_held_out() -> None:
    assert set(sources()) == set(DEV) | HELD_OUT
    assert not set(DEV) & HELD_OUT


@pytest.mark.parametrize("source", DEV)
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
