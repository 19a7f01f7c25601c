"""Parser mechanisms for classes of real-world mail (not per-message fixes).

Sender choice, undeclared Russian charsets, 8-bit Latin-1 headers, encoded
words whose content looks like address syntax, and the classes of error public
test mail (tests/data/mail) showed: quote and signature boundaries, the header
block's end, alternatives. Every message here is synthetic.
"""

from __future__ import annotations

import pytest

from supportkit.channels.email import parse_email, visible_reply
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


# --- quote and signature boundaries (classes found on public test mail, tests/data/mail) ---


@pytest.mark.parametrize(
    "attribution",
    [
        "On Tue, 3 Mar 2026 at 10:15, Olga Petrova\n<olga@example.org> wrote:",
        "On 3 Mar 2026, at 10:15, Support <\nhelp+42@desk.example.org>\nwrote:",
        "2026-03-03 10:15 GMT+03:00 Olga <\nolga@example.org>:",
        "Den 3. mars 2026 10:15 skrev Olga <olga@example.org>:",
        "Op 3 mrt. 2026 om 10:15 heeft Olga <olga@example.org> het volgende geschreven:",
        "tiistaina 3.3.2026 10:15 Olga <olga@example.org> kirjoitti:",
        "3/3/2026 10:15, Olga (olga@example.org):",
        "------ On 3 Mar 2026 10:15, Olga wrote ------",
    ],
)
def test_an_attribution_in_any_form_starts_the_quote(attribution: str) -> None:
    text = f"The printer works now, thank you.\n\n{attribution}\n\nDoes the printer work?\n"
    assert visible_reply(text) == "The printer works now, thank you."


def test_reply_below_or_around_a_quote_block_is_kept() -> None:
    below = "On Mon, 2 Mar 2026, Desk <desk@example.org> wrote:\n> Is it fixed?\nYes, fixed."
    assert visible_reply(below) == "Yes, fixed."
    around = (
        "Yes, fixed.\n\nOn Mon, 2 Mar 2026, Desk wrote:\n>\n> Is it fixed?\n>> earlier\n\n"
        "Thanks again, Olga"
    )
    assert visible_reply(around) == "Yes, fixed.\n\nThanks again, Olga"


def test_any_line_ending_in_wrote_colon_above_quoted_lines_is_an_attribution() -> None:
    text = "Works.\n\nSent via my tablet Olga <olga@example.org> wrote:\n\n> Does it work?"
    assert visible_reply(text) == "Works."
    # without quoted lines after it, such a line is the sender's own text
    assert visible_reply("Note what Olga wrote:\nit works") == "Note what Olga wrote:\nit works"


def test_an_attribution_on_the_reply_line_is_split_off() -> None:
    assert visible_reply("Works now On Mon, 2 Mar 2026 Olga wrote:\n> q") == "Works now"
    assert visible_reply("Works now--- On Mon, 2 Mar 2026 Olga wrote:\n> q") == "Works now"
    plain = "We meet On Monday as you wrote: fine"
    assert visible_reply(plain) == plain


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "-----Reply Message-----",
        "----- Исходное сообщение -----",
        "-----Oprindelig meddelelse-----",
        "________________________________",
    ],
)
def test_a_dash_framed_title_separates_the_quoted_message(separator: str) -> None:
    assert visible_reply(f"Done.\n\n{separator}\nFrom: a\n\nold text") == "Done."


@pytest.mark.parametrize(
    "block",
    [
        "Date: Mon, 2 Mar 2026 10:15 +0300\nTo: desk@example.org",
        "Fra: desk@example.org\nSendt: 2. marts 2026\nTil: Olga\nEmne: Printer",
        "Från: desk@example.org\nSkickat: den 2 mars 2026\nTill: Olga",
        "От: desk@example.org\nОтправлено: 2 марта 2026 г.\nКому: Ольга\nТема: Принтер",
        "  *From:* desk@example.org\n  *Sent:* Monday\n  *To:* olga@example.org",
    ],
)
def test_a_quoted_header_block_in_any_language_ends_the_reply(block: str) -> None:
    assert visible_reply(f"Done.\n\n{block}\n\nold text") == "Done."


def test_a_from_line_with_an_address_opening_a_paragraph_ends_the_reply() -> None:
    assert visible_reply("Done.\n\nFrom: desk@example.org\n\nold text") == "Done."
    own = "Please write From: olga@example.org on the form."
    assert visible_reply(own) == own


def test_a_forwarded_message_is_content_and_kept_whole() -> None:
    text = (
        "See below.\n\n---------- Forwarded message ---------\nFrom: shop@example.org\n"
        "Date: Mon, 2 Mar 2026\nSubject: Order\nTo: olga@example.org\n\nYour order shipped."
    )
    assert visible_reply(text) == text
    russian = "Смотрите.\n\n-------- Пересылаемое сообщение --------\nОт: a@b.c\n\nТекст"
    assert visible_reply(russian) == russian


def test_link_pieces_wrapped_out_of_a_quoted_line_stay_in_the_quote() -> None:
    text = (
        "Thanks\n\nOn Mon, 2 Mar 2026 at 10:15, Desk wrote:\n\n> See the ticket (https://ex.org/t\n"
        "?id=42)\n>\n (https://ex.org/u) >\n> bye\n"
    )
    assert visible_reply(text) == "Thanks"


def test_a_header_block_without_the_blank_line_ends_where_the_headers_end() -> None:
    raw = b"From: olga@example.org\r\nSubject: Printer\r\nit does not print\r\nsince Monday\r\n"
    msg = parse_email(raw)
    assert msg.subject == "Printer"
    assert msg.full_text == "it does not print\nsince Monday\n"
    # a broken fold between two headers is still joined to the header before it
    folded = b"Subject: a long\r\nsubject line\r\nFrom: olga@example.org\r\n\r\nbody"
    assert parse_email(folded).subject == "a long subject line"


def test_alternatives_are_one_content_never_joined() -> None:
    raw = (
        b'From: a@example.org\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe printer is fixed.\r\n"
        b"--b\r\nContent-Type: text/plain; format=flowed\r\n\r\nThe printer is fixed. \r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>The printer is <b>fixed</b>.</p>\r\n--b--\r\n"
    )
    msg = parse_email(raw)
    assert msg.full_text.strip() == "The printer is fixed."
    assert msg.html == "<p>The printer is <b>fixed</b>.</p>"


@pytest.mark.parametrize(
    "attribution",
    [
        "30.09.2026, 18.30, Olga <olga@example.org>:",  # the time written with a dot
        "ke 3. maaliskuuta 2026 klo 17.50 Olga\n<olga@example.org> kirjoitti:",  # wrapped
        "On Tue, 3 Mar 2026 10:15 -0200 Olga <olga@example.org> wrote",  # no colon
    ],
)
def test_attributions_found_on_the_held_out_set(attribution: str) -> None:
    text = f"The printer works now.\n\n{attribution}\n\nDoes it work?"
    assert visible_reply(text) == "The printer works now."
    # without a time or an address, "On ... wrote" at a line's end is the sender's sentence
    assert visible_reply("On Monday my colleague wrote\nthe fix") == (
        "On Monday my colleague wrote\nthe fix"
    )


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from TypeApp<http://www.typeapp.example/r?b=1>",
        "Gesendet von Outlook für Android<https://aka.ms/x>",
        "Отправлено из мобильной Почты",
        "Enviado desde mi teléfono",
    ],
)
def test_a_sent_from_footer_in_any_language_ends_the_reply(footer: str) -> None:
    assert visible_reply(f"Done.\n\n{footer}\n\nold text") == "Done."
    sentence = "Done.\n\nSent from my desk, which is easier than my phone."
    assert visible_reply(sentence) == sentence


def test_a_quoted_attribution_is_not_split_and_a_rule_above_a_header_block_goes() -> None:
    quoted = "Done.\n\n> Le 2 mars 2026 à 10:15, Desk <desk@example.org> a écrit :\n> A\n"
    assert visible_reply(quoted) == "Done."
    ruled = "Done.\n\n====\n\nMessage du : 02/03/2026 10:15\nDe : desk@example.org\nA : o@x.org"
    assert visible_reply(ruled) == "Done."
