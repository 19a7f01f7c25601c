"""Hostile mail: every failure is a SupportKitError with a clear message, kept with the raw mail.

The shapes here are the ones the issue found raising ValueError or
RecursionError, silently losing a body, or taking tens of seconds. Time is
measured in benchmarks/bench_parse_scaling.py; these tests check results.
"""

from __future__ import annotations

import logging

import pytest

from supportkit import FakeClock, MalformedMessage, SupportDesk
from supportkit.channels.email import EmailChannel, parse_email
from supportkit.channels.email._html import html_to_text, sanitise_html
from supportkit.channels.email._quote import visible_reply
from supportkit.channels.email._structure import MAX_MIME_DEPTH, mime_depth


def nested_multipart(depth: int) -> bytes:
    out = b"From: Ann <ann@example.com>\r\nMessage-ID: <deep@x>\r\nMIME-Version: 1.0\r\n"
    for i in range(depth):
        out += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
    out += b"Content-Type: text/plain\r\n\r\nthe innermost text\r\n"
    for i in reversed(range(depth)):
        out += f"--b{i}--\r\n".encode()
    return out


def test_a_nul_in_an_encoded_word_charset_is_decoded_around() -> None:
    msg = parse_email(b"From: a@example.com\r\nSubject: =?ut\x00f-8?q?=C3=A9t=C3=A9?=\r\n\r\nhi")
    assert msg.subject == "été"


def test_a_nul_in_a_part_charset_keeps_the_body() -> None:
    raw = (
        'From: a@example.com\r\nContent-Type: text/plain; charset="utf\x00-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\nПривет, это тело письма\r\n"
    ).encode()
    assert parse_email(raw).text == "Привет, это тело письма"


@pytest.mark.parametrize("depth", [1, 5, 40, MAX_MIME_DEPTH])
def test_nesting_up_to_the_limit_is_parsed(depth: int) -> None:
    raw = nested_multipart(depth)
    assert mime_depth(raw) == depth
    msg = parse_email(raw)
    assert msg.sender.address == "ann@example.com"
    if depth <= 40:
        assert msg.text == "the innermost text"


@pytest.mark.parametrize("depth", [MAX_MIME_DEPTH + 1, 1000, 5000])
def test_nesting_past_the_limit_is_a_clear_error(depth: int) -> None:
    with pytest.raises(MalformedMessage, match=f"nests {depth} multipart levels"):
        parse_email(nested_multipart(depth))


def test_sibling_multiparts_do_not_count_as_depth() -> None:
    parts = b"".join(
        f'--top\r\nContent-Type: multipart/alternative; boundary="s{i}"\r\n\r\n'
        f"--s{i}\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n--s{i}--\r\n".encode()
        for i in range(300)
    )
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=top\r\n\r\n"
        + parts
        + b"--top--\r\n"
    )
    assert mime_depth(raw) == 2
    assert "part 299" in parse_email(raw).full_text


def test_a_too_deep_mail_is_kept_failed_with_its_error() -> None:
    channel = EmailChannel(SupportDesk(), "desk@support.example")
    outcome = channel.ingest(nested_multipart(1000))
    assert outcome.status == "failed"
    assert "nests 1000 multipart levels" in (outcome.error or "")
    with channel.desk.storage.unit_of_work() as uow:
        (kept,) = uow.list_raw_inbound()
    assert (kept.status, kept.raw) == ("failed", nested_multipart(1000))


def test_a_parser_bug_is_kept_failed_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from supportkit.channels.email import _parse

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(_parse, "_parse", broken)
    channel = EmailChannel(SupportDesk(), "desk@support.example")
    with caplog.at_level(logging.ERROR):
        outcome = channel.ingest(b"From: a@example.com\r\nMessage-ID: <bug@x>\r\n\r\nhi")
    assert outcome.status == "failed"
    assert "could not be parsed (KeyError)" in (outcome.error or "")
    with channel.desk.storage.unit_of_work() as uow:
        assert [r.status for r in uow.list_raw_inbound()] == ["failed"]


def test_an_unexpected_error_while_registering_is_kept_failed_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    desk = SupportDesk(clock=clock)
    channel = EmailChannel(desk, "desk@support.example")

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug in an extension")

    monkeypatch.setattr(desk, "receive", broken)
    with caplog.at_level(logging.ERROR, logger="supportkit.channels"):
        outcome = channel.ingest(b"From: a@example.com\r\nMessage-ID: <z@x>\r\n\r\nhi")
    assert outcome.status == "failed"
    assert outcome.error == "ZeroDivisionError: a bug in an extension"
    assert any("failed unexpectedly" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    clock.advance(channel.lease)  # a failed mail is retried once its attempt's lease ran out
    assert [o.status for o in channel.reprocess()] == ["processed"]


def test_alternating_quote_lines_keep_what_the_sender_wrote() -> None:
    text = "\n".join(">q" if i % 2 == 0 else "a" for i in range(93_334))  # ~280 KB
    assert visible_reply(text) == text[: text.rindex("\na") + 2]
    assert visible_reply("mine\n\n> theirs\n>\n> more") == "mine"
    assert visible_reply("> quoted\nmine\n> quoted") == "> quoted\nmine"


def test_deeply_nested_html_keeps_its_text() -> None:
    html = "<div>" * 100_000 + "deep text" + "</div>" * 100_000  # 1.1 MB
    assert "deep text" in sanitise_html(html)
    assert sanitise_html(html).count("<div>") <= 64
    assert html_to_text(html) == "deep text"


def test_unterminated_tags_are_text_not_a_rescan() -> None:
    html = '<a href="x" title="' * 20_000
    assert html_to_text("<p>a < b</p>") == "a < b"
    assert html_to_text(html).startswith('<a href="x"')
    assert sanitise_html(html).startswith("&lt;a href")
