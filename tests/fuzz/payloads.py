"""What a hostile stranger sends: hypothesis strategies for texts, JSON values and bodies."""

from __future__ import annotations

import json

from hypothesis import strategies as st

MAX_TEXT = 4096

# Payloads that broke (or break) services like this one.
NASTY = (
    "'; DROP TABLE messages; --",
    "1' OR '1'='1",
    '" OR 1=1 --',
    "{{7*7}}",
    "${7*7}",
    "{% for x in range(9999999) %}x{% endfor %}",
    "{support_email}",
    "{sender.__class__.__mro__}",
    "%s%s%s%n",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "[link](javascript:alert(1))",
    "*bold* _it_ `code` ```pre``` ||spoiler||",
    "<b>unclosed",
    "../../../../etc/passwd",
    "/etc/passwd\x00.png",
    "/language",
    "/language ../../",
    "/language " + "x" * 300,
    "/human",
    '/request_human{"a": 1}',
    "/faq/shipping_time",
    "/delete_my_data confirm",
    "/start",
    '/greet{"name": "' + "{" * 50,
    "\u202eevil\u202c \u2066isolate\u2069 \u200fRTL\u200e",
    "\u200b\u200c\u200d\ufeff\u2060",
    "שלום hello سلام xin chào hallo",
    "Đơn hàng của tôi ở đâu?",
    "می‌خواهم سفارشم را لغو کنم",
    "e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
    "Z̵̧̛̖̝̗͎̱̞̈́̈́̋̾͌̕ả̶̧̢̛̬̯̗̬̥̑͂̂l̸̨̹̰̤̰̈́̾͝g̷̢̛͎̪͓̹̪̀̅o̵̥̙͓͊̀͂",
    "\U0001f600\U0001f4a9\U0001f1f3\U0001f1f1\u2764\ufe0f\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\x00\x01\x02\x07\x08\x1b[31mred\x1b[0m\x7f",
    "line\r\nbreak\rreturn\n\n\t\v\f",
    "alex@example.com 10001 +31 6 12345678 NL91ABNA0417164300",
    "order 10001 alex@example.com",
    "ok",
    "👍",
    "  \t ",
)

# Units whose repetition made regular expressions backtrack (issue 10).
REPEATED = (
    ".",
    "a.",
    "a ",
    "@",
    "a@",
    "a@a.",
    "x/",
    "<",
    "<a",
    "{",
    "{{",
    "http://",
    "www.",
    "_",
    "=",
    "a=",
    "1",
    "10001 ",
    "+3",
    "ش",
    "ی ",
    "\u200c",
    "😀",
    "\u202e",
    "\u0301",
    "\x00",
    " ",
    "\n",
)

HOSTILE_CHARACTERS = st.characters(
    codec=None, categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co", "Cn")
)


@st.composite
def repeated(draw, limit: int = MAX_TEXT + 1) -> str:
    unit = draw(st.sampled_from(REPEATED))
    count = draw(st.integers(1, max(1, limit // len(unit))))
    return unit * count


@st.composite
def of_length(draw) -> str:
    """A text of an edge length: 1, the limit, just over, or anything up to it."""
    length = draw(st.sampled_from([1, 2, 255, 256, 1000, MAX_TEXT - 1, MAX_TEXT, MAX_TEXT + 1]))
    alphabet = draw(st.sampled_from(["a", "ا", "😀", "a b.", "שלום ", "x@y.", "<p>"]))
    return (alphabet * (length // len(alphabet) + 1))[:length]


def texts() -> st.SearchStrategy[str]:
    """Customer (or agent) text of every kind the routes accept, and just beyond."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(HOSTILE_CHARACTERS, min_size=1, max_size=80),
        st.lists(st.sampled_from(NASTY), min_size=2, max_size=6).map(" ".join),
        repeated(),
        of_length(),
        # Lone surrogates: valid JSON escapes, not valid Unicode.
        st.sampled_from(["\ud800", "hello \udfff world", "\udbff\ud800x", "\ud83d"]),
    )


def senders() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            ["anna", "telegram-12345", "web-abc", "../admin", "a/b", "%2F", "?x=1", "a#b", "."]
        ),
        st.text(HOSTILE_CHARACTERS, min_size=1, max_size=40),
        st.sampled_from(NASTY),
        st.just("s" * 128),
        st.just("s" * 129),
    )


def scalars() -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(NASTY),
    )


def json_values() -> st.SearchStrategy[object]:
    return st.recursive(
        scalars(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )


def wrong(value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """The right kind of value most of the time, any JSON value sometimes."""
    return st.one_of(value, value, value, json_values())


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


DEEP = (
    nested(1_000),
    nested(32_000),  # within the 64 KiB body limit, beyond Python's recursion limit
    b'{"text": ' + nested(20_000) + b', "sender": "deep"}',
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    nested(100_000),  # beyond the body limit: 413
)

RAW = (
    b"",
    b"null",
    b"[]",
    b'"just a string"',
    b"1e999999",
    b"NaN",
    b"-Infinity",
    b'{"text": NaN}',
    b"\xff\xfe\x00\x00",
    b"\xef\xbb\xbf{}",
    b'{"sender": "x", "sender": 5, "text": "dup"}',
    b'{"text": "\\u0000"}',
    b'{"text": "\\ud800"}',
    b"{" * 5 + b"}",
    b'{"text": "' + b"a" * 70_000 + b'"}',
)


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Bytes that are not (or not quite) a JSON object."""
    return st.one_of(
        st.binary(max_size=200),
        st.sampled_from(DEEP),
        st.sampled_from(RAW),
        json_values().map(lambda value: json.dumps(value).encode()),
    )


CONTENT_TYPES = (
    "application/json",
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    None,
)
