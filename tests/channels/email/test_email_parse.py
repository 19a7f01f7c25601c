"""Parsing crafted and awkward mail: the parser repairs, records, never raises."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from supportkit.channels.email import (
    Address,
    ParseLimits,
    html_to_text,
    message_id_of,
    parse_email,
    visible_reply,
)


def mail(headers: str, body: bytes | str = b"hello") -> bytes:
    if isinstance(body, str):
        body = body.encode()
    return headers.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


def test_plain_message_fields_are_normalised() -> None:
    msg = parse_email(
        mail(
            "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <JM@Example.COM>\n"
            'To: desk@example.com, "Lee, Ann" <ann@example.com>\nCc: bob@example.com\n'
            "Subject: =?utf-8?b?0J/RgNC40LLQtdGC?= world\nMessage-ID: <a1@example.com>\n"
            "In-Reply-To: <p0@example.com>\nReferences: <r1@x> <p0@example.com>\n"
            "Date: Tue, 03 Mar 2026 10:00:00 +0300",
            "Hi",
        ),
        received_at=datetime(2026, 3, 3, 7, 1, tzinfo=UTC),
    )
    assert msg.sender == Address("JM@Example.COM", "Jürgen Müller")
    assert msg.to == (Address("desk@example.com"), Address("ann@example.com", "Lee, Ann"))
    assert msg.cc == (Address("bob@example.com"),)
    assert msg.subject == "Привет world"
    assert msg.external_id == "<a1@example.com>"
    assert msg.in_reply_to == "<p0@example.com>"
    assert msg.references == ("<r1@x>", "<p0@example.com>")
    assert msg.sent_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    assert msg.received_at == datetime(2026, 3, 3, 7, 1, tzinfo=UTC)
    assert msg.body_type == "text/plain"
    assert msg.html is None


def test_header_injection_in_a_subject_is_flattened_to_one_line() -> None:
    msg = parse_email(
        mail("From: a@example.com\nSubject: =?utf-8?q?hi=0D=0ABcc:_victim@example.com?=")
    )
    assert "\n" not in msg.subject
    assert "\r" not in msg.subject
    assert msg.subject == "hi  Bcc: victim@example.com"


def test_script_in_html_is_sanitised_and_links_get_nofollow() -> None:
    html = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a>'
        '<a href="https://example.com">site</a></p><script>alert(1)</script>'
        '<img src="cid:logo@x">'
    )
    msg = parse_email(mail("From: a@example.com\nContent-Type: text/html; charset=utf-8", html))
    assert msg.html is not None
    assert "script" not in msg.html
    assert "onclick" not in msg.html
    assert "javascript" not in msg.html
    assert 'rel="nofollow noreferrer noopener"' in msg.html
    assert 'src="cid:logo@x"' in msg.html
    assert msg.full_text == "Hi xsite"


def test_oversized_attachment_is_dropped_with_a_note_not_an_exception() -> None:
    big = base64.encodebytes(b"\0" * (50 * 1024 * 1024))
    raw = mail(
        'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
        b'Content-Type: application/octet-stream; name="huge.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + big + b"\r\n--b--\r\n",
    )
    msg = parse_email(raw, limits=ParseLimits(max_attachment_bytes=10 * 1024 * 1024))
    assert msg.text == "see attached"
    assert msg.attachments == ()
    assert any("huge.bin" in note and "limit" in note for note in msg.notes)


def test_broken_mime_keeps_whatever_text_it_can() -> None:
    raw = mail(
        'From: a@example.com\nContent-Type: multipart/mixed; boundary="never"',
        "no boundary ever appears\nbut this is the text",
    )
    msg = parse_email(raw)
    assert "but this is the text" in msg.full_text


def test_legacy_cyrillic_charsets_and_wrong_declarations_are_decoded() -> None:
    text = "Здравствуйте, у меня не работает принтер"
    for charset in ("windows-1251", "koi8-r", "iso-8859-5"):
        msg = parse_email(
            mail(
                f"From: a@example.com\nContent-Type: text/plain; charset={charset}",
                text.encode(charset),
            )
        )
        assert msg.full_text == text, charset
    undeclared = parse_email(mail("From: a@example.com", text.encode("windows-1251")))
    assert undeclared.full_text == text
    mislabelled = parse_email(
        mail(
            "From: a@example.com\nContent-Type: text/plain; charset=us-ascii", text.encode("utf-8")
        )
    )
    assert mislabelled.full_text == text


def test_html_only_mail_becomes_text_and_quotes_are_stripped() -> None:
    html = (
        "<div>Thanks, it works now.</div><br><div>On Mon, Ann wrote:</div>"
        "<blockquote><p>Try restarting.</p></blockquote>"
    )
    msg = parse_email(mail("From: a@example.com\nContent-Type: text/html", html))
    assert msg.text == "Thanks, it works now."
    assert "Try restarting." in msg.full_text


def test_forwarded_message_is_an_attachment_and_inline_images_keep_their_cid() -> None:
    inner = b"From: c@example.com\r\nSubject: Original\r\n\r\nthe original text\r\n"
    png = b"\x89PNG\r\n\x1a\nfake"
    raw = mail(
        'From: a@example.com\nContent-Type: multipart/related; boundary="r"',
        b'--r\r\nContent-Type: text/html\r\n\r\n<p>see <img src="cid:img1@x"></p>\r\n'
        b"--r\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(png)
        + b"\r\n--r\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"\r\n--r--\r\n",
    )
    msg = parse_email(raw)
    image, forward = msg.attachments
    assert image.content_id == "img1@x"
    assert image.inline
    assert image.size == len(png)
    assert image.sha256 == hashlib.sha256(png).hexdigest()
    assert msg.data_of(image) == png
    assert forward.content_type == "message/rfc822"
    assert forward.filename == "Original.eml"
    assert b"the original text" in msg.data_of(forward)


def test_signature_and_reply_headers_are_stripped_from_the_visible_reply() -> None:
    assert visible_reply("Yes.\n\n-- \nAnn Lee\nACME") == "Yes."
    assert visible_reply("Ok\n\nAm 2. März 2026 schrieb Max <m@x.de>:\n> alt") == "Ok"
    assert visible_reply("Да\n\n2 марта 2026 г., Иван написал:\n> старое") == "Да"
    outlook = "Fine\n\nFrom: Support\nSent: Monday\nTo: Ann\nSubject: Re: x\n\nold"
    assert visible_reply(outlook) == "Fine"
    assert visible_reply("> only quoted\n> text") == "> only quoted\n> text"


def test_message_id_is_read_before_parsing_and_generated_when_missing() -> None:
    raw = mail("From: a@example.com\nMessage-ID: <abc@example.com>")
    assert message_id_of(raw) == "<abc@example.com>" == parse_email(raw).external_id
    bare = mail("From: a@example.com")
    assert message_id_of(bare) == parse_email(bare).external_id
    assert message_id_of(bare).startswith("<gen-")


def test_mbox_envelope_line_and_unfolded_headers_are_tolerated() -> None:
    raw = (
        b"From someone@example.com Mon Jan  1 00:00:00 2026\n"
        b"From: a@example.com\nX-Long: part one\npart two without indent\n"
        b"Subject: still a header\n\nbody\n"
    )
    msg = parse_email(raw)
    assert msg.subject == "still a header"
    assert msg.full_text.strip() == "body"


def test_html_to_text_keeps_lists_and_breaks() -> None:
    assert html_to_text("<ul><li>one</li><li>two</li></ul>a<br>b") == "- one\n- two\n\na\nb"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_an_exception(raw: bytes) -> None:
    msg = parse_email(raw)
    assert "\n" not in msg.subject
    assert msg.external_id


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=200),
    st.sampled_from(["utf-8", "windows-1251", "koi8-r", "latin-1", "bogus-charset"]),
)
def test_any_text_in_any_declared_charset_parses(text: str, charset: str) -> None:
    body = text.encode("utf-8")
    raw = mail(
        f"From: a@example.com\nSubject: {text[:50]!r}\nContent-Type: text/plain; charset={charset}",
        body,
    )
    msg = parse_email(raw)
    assert "\r" not in msg.full_text
