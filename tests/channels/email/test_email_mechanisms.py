"""Parser mechanisms for classes of real-world mail (not per-message fixes).

Sender choice, undeclared Russian charsets, 8-bit Latin-1 headers, and
encoded words whose content looks like address syntax.
"""

from __future__ import annotations

import pytest

from supportkit.channels.email import parse_email
from supportkit.channels.email._charset import decode_bytes

RUSSIAN = "Здравствуйте! Мой заказ 123 не пришёл, прошу помочь. Спасибо, Иван"


@pytest.mark.parametrize(
    ("headers", "address", "name"),
    [
        (b"From: ann@example.com\r\nFrom: bob@example.com\r\n", "ann@example.com", ""),
        (b'From: "Ann Lee" <>\r\nFrom: ann@example.com\r\n', "ann@example.com", "Ann Lee"),
        (b'From: "Ann Lee" <>\r\nReply-To: ann@reply.example\r\n', "ann@reply.example", "Ann Lee"),
        (b"From: garbage\r\nReply-To: <>\r\nSender: s@example.com\r\n", "s@example.com", ""),
        (
            b"From: Ann <ann@@>\r\nReturn-Path: <bounce@example.com>\r\n",
            "bounce@example.com",
            "Ann",
        ),
        (b"From: undisclosed-recipients:;\r\nSender: s@example.com\r\n", "s@example.com", ""),
        (b"From: A <a@example.com>\r\nReply-To: r@example.com\r\n", "a@example.com", "A"),
    ],
)
def test_the_sender_is_the_first_usable_mailbox(headers: bytes, address: str, name: str) -> None:
    msg = parse_email(headers + b"Subject: x\r\n\r\nhello")
    assert (msg.sender.address, msg.sender.name) == (address, name)


@pytest.mark.parametrize("codec", ["koi8-r", "cp1251"])
@pytest.mark.parametrize("label", [None, "iso-8859-1", "us-ascii", "x-unknown"])
def test_russian_text_without_a_true_charset_is_detected(codec: str, label: str | None) -> None:
    text, note = decode_bytes(RUSSIAN.encode(codec), label)
    assert text == RUSSIAN
    assert note is not None
    assert codec in note


@pytest.mark.parametrize("codec", ["koi8-r", "cp1251"])
def test_undeclared_russian_subject_and_body_read_right(codec: str) -> None:
    raw = (
        b"From: a@example.com\r\nSubject: "
        + "Не пришёл заказ".encode(codec)
        + b"\r\n\r\n"
        + RUSSIAN.encode(codec)
    )
    msg = parse_email(raw)
    assert msg.subject == "Не пришёл заказ"
    assert msg.text == RUSSIAN


@pytest.mark.parametrize(
    ("data", "label"),
    [
        ("Grüße aus München, Jürgen".encode("cp1252"), None),
        (b"aa\xe4\xf6\xfc\xdfad asd", "iso-8859-1"),
        ("Ça coûte très cher à Genève".encode("latin-1"), "iso-8859-1"),
    ],
)
def test_western_text_stays_western(data: bytes, label: str | None) -> None:
    text, _ = decode_bytes(data, label)
    assert text == data.decode("cp1252")


def test_an_8bit_latin1_name_in_a_header_is_read() -> None:
    msg = parse_email(b"From: J\xfcrgen M\xfcller <j@example.de>\r\n\r\nHallo")
    assert msg.sender.name == "Jürgen Müller"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("=?utf-8?q?Ann__Lee?= <a@example.com>", "Ann  Lee"),
        ("=?utf-8?q?Lee,_Ann?= <a@example.com>", "Lee, Ann"),
        ("=?utf-8?q?Lee, Ann?= <a@example.com>", "Lee, Ann"),
        ('=?utf-8?q?The_"Best"_Shop?= <a@example.com>', 'The "Best" Shop'),
        ("=?utf-8?q?Ann?= =?utf-8?q?_Lee?= <a@example.com>", "Ann Lee"),
    ],
)
def test_what_an_encoded_word_holds_is_content(value: str, name: str) -> None:
    msg = parse_email(f"From: {value}\r\nTo: {value}, b@example.com\r\n\r\nhi".encode())
    assert (msg.sender.address, msg.sender.name) == ("a@example.com", name)
    assert [a.address for a in msg.to] == ["a@example.com", "b@example.com"]
