"""What is left of a reply once quoting, signatures and HTML are gone; hostile input."""

from __future__ import annotations

import time

import pytest

from bot.channels.email.mail import automatic, from_bytes, from_json
from bot.channels.email.quoting import html_to_text, reply_text


@pytest.mark.parametrize(
    "body",
    [
        "Where is it?\n\nOn Mon, 1 Dec 2026 at 10:00, Tolk <s@x.com> wrote:\n> old",
        "Where is it?\n\nOn Mon, 1 Dec 2026 at 10:00 Tolk Support <\ns@x.com> wrote:\n\n> old",
        "Where is it?\n\nOp ma 1 dec. 2026 om 10:00 schreef Tolk <s@x.nl>:\n> oud",
        "Where is it?\n\nב-1 בדצמ׳ 2026, 10:00, מאת Tolk כתב/ה:\n> ישן",
        "Where is it?\n\nدر تاریخ ۱ دسامبر ۲۰۲۶، Tolk نوشت:\n> قدیمی",
        "Where is it?\n\nVào Th 2, 1 thg 12, 2026 Tolk đã viết:\n> cũ",
        "Where is it?\n\nFrom: Tolk <s@x.com>\nSent: Monday\nTo: me\n\nold",
        "Where is it?\n\nVan: Tolk\nVerzonden: maandag\n\noud",
        "Where is it?\n-- \nAnna, +31 6 1234",
        "Where is it?\n\nSent from my iPhone",
        "Where is it?\n-----Original Message-----\nold",
    ],
)
def test_only_the_new_words_stay(body):
    assert reply_text(body) == "Where is it?"


def test_html_only_mail_becomes_text_without_markup_or_history():
    html = '<p>Hi <b>there</b></p><script>x()</script><div class="gmail_quote">old</div>'
    assert html_to_text(html) == "Hi there"
    mail = from_json({"from": "a@b.org", "html": html})
    assert mail.text == "Hi there"


def test_auto_replies_lists_and_our_own_mail_are_recognised():
    own = "support@shop.example"

    def why(**headers):
        return automatic(from_json({"from": "a@b.org", "headers": headers, "text": "x"}), own)

    assert why() is None
    assert why(**{"Auto-Submitted": "auto-replied"}) == "Auto-Submitted"
    assert why(**{"X-Autoreply": "yes"}) == "X-Autoreply"
    assert why(Precedence="bulk") == "Precedence"
    assert why(**{"List-Id": "<x.list>"}) == "mailing list"
    ours = from_json({"from": "support+abc@shop.example", "text": "x"})
    assert automatic(ours, own) == "our own address"


def test_hostile_mail_is_bounded():
    nested = b"Content-Type: text/plain\r\n\r\nhi\r\n"
    for level in range(300):
        boundary = f"b{level}".encode()
        nested = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + nested
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    raw = b"From: a@b.org\r\nSubject: x\r\n" + nested
    started = time.perf_counter()
    from_bytes(raw)
    bad_charset = b'From: a@b.org\r\nContent-Type: text/plain; charset="x-nonsense"\r\n\r\nhi\xff'
    assert from_bytes(bad_charset).text.startswith("hi")
    huge = "a " * 2_000_000 + "\n> " * 100_000
    reply_text(huge)
    assert time.perf_counter() - started < 30  # generous: linear work, shared machine
