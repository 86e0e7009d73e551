"""What the customer wrote in a reply, without the quoted history, signature or HTML.

Line by line and with `str` methods only (no regular expression runs over the body: a
backtracking one froze this service once), so the work grows with the body's length and
the body is capped before it gets here (mail.py). Cuts, from the first of:
- a `>`-quoted line (and the attribution line just above it);
- an attribution line, "On … wrote:" in the languages we speak and the clients' usual
  wordings (Gmail, Apple Mail, Thunderbird; nl "Op … schreef …:", he "… כתב/ה:", fa
  "… نوشت:", vi "Vào … đã viết:"), also when a client wrapped it over two lines;
- Outlook's header block ("From:" followed within a few lines by "Sent:"/"Date:", in the
  same languages), "-----Original Message-----" and its underscore rule;
- the signature delimiter "-- " and "Sent from my …" footers.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

# How the attribution line of a quoted reply ends, per client language.
_WROTE = (
    "wrote:",
    "writes:",
    "schreef:",
    "geschreven:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "כתב:",
    "כתבה:",
    "כתב/ה:",
    "נכתב:",
    "نوشت:",
    "نوشته است:",
    "viết:",
    "đã viết:",
)
# How it starts, when a client wrapped it: the first half ends in no marker.
_WROTE_START = ("on ", "op ", "am ", "le ", "el ", "ב-", "בתאריך", "در ", "vào ", "lúc ")
_HEADER_FROM = ("from:", "van:", "de:", "von:", "מאת:", "از:", "từ:", "*from:*")
_HEADER_DATE = (
    "sent:",
    "date:",
    "verzonden:",
    "datum:",
    "gesendet:",
    "envoyé:",
    "נשלח:",
    "תאריך:",
    "ارسال شده:",
    "تاریخ:",
    "đã gửi:",
    "ngày:",
    "*sent:*",
)
_SEPARATORS = (
    "-----original message-----",
    "-----oorspronkelijk bericht-----",
    "-----ursprüngliche nachricht-----",
    "-----הודעה מקורית-----",
    "-----پیام اصلی-----",
    "-----tin nhắn gốc-----",
    "begin forwarded message:",
)
_FOOTERS = (
    "sent from my ",
    "verzonden vanaf mijn ",
    "verstuurd vanaf mijn ",
    "get outlook for ",
    "נשלח מה-",
    "נשלח מ-",
    "ارسال شده از ",
    "được gửi từ ",
)
# Outlook's "From:" and "Sent:" lines are this close together.
_HEADER_SPAN = 4
# Lines longer than this are never attribution lines (keeps the endswith checks cheap).
_ATTRIBUTION_MAX = 400


def reply_text(body: str) -> str:
    """The new part of a reply: above the quoted history, without the signature."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_at(lines)
    kept = [line.rstrip() for line in lines[:cut]]
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


def _cut_at(lines: list[str]) -> int:
    for index, raw in enumerate(lines):
        line = raw.strip().lower()
        if not line:
            continue
        if line.startswith(">"):
            return _with_attribution(lines, index)
        if raw.rstrip("\n") in ("-- ", "--") or line in _SEPARATORS:
            return index
        if line.startswith("___") and line.strip("_") == "":  # Outlook's rule
            return index
        if len(line) <= _ATTRIBUTION_MAX:
            if line.endswith(_WROTE):
                previous = lines[index - 1].strip().lower() if index else ""
                wrapped = previous.startswith(_WROTE_START) and not line.startswith(_WROTE_START)
                return index - 1 if wrapped else index
            if line.startswith(_HEADER_FROM) and _date_follows(lines, index):
                return index
            if line.startswith(_FOOTERS):
                return index
    return len(lines)


def _with_attribution(lines: list[str], index: int) -> int:
    """Where a `>` block starts, with the "On … wrote:" line(s) above it."""
    before = index - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before >= 0 and len(lines[before]) <= _ATTRIBUTION_MAX:
        line = lines[before].strip().lower()
        if line.endswith(_WROTE) or line.endswith(":"):
            above = lines[before - 1].strip().lower() if before else ""
            return before - 1 if above.startswith(_WROTE_START) else before
    return index


def _date_follows(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 : index + 1 + _HEADER_SPAN]:
        if line.strip().lower().startswith(_HEADER_DATE):
            return True
    return False


class _TextOnly(HTMLParser):
    """Text of an HTML mail: no scripts, styles or head; blockquotes (and Gmail's and
    Outlook's quote containers) dropped as quoted history; line breaks kept."""

    _SKIP = frozenset({"script", "style", "head", "title", "blockquote"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "table", "hr"})
    _QUOTE_MARKS = ("gmail_quote", "moz-cite-prefix", "divrplyfwdmsg", "appendonsend")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quoted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.quoted:
            return
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id")).lower()
        if any(mark in marks for mark in self._QUOTE_MARKS):
            self.quoted = True  # everything after the client's quote container is history
            return
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.quoted:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body (no markup survives: the text is shown as text)."""
    parser = _TextOnly()
    try:
        parser.feed(markup)
        parser.close()
    except AssertionError:  # html.parser's answer to some malformed declarations
        return html.unescape(markup).replace("<", " ").replace(">", " ")
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    collapsed: list[str] = []
    for line in lines:
        if line or (collapsed and collapsed[-1]):
            collapsed.append(line)
    return "\n".join(collapsed).strip()
