"""Files between customers and agents: serving a customer's file to an agent without
letting it run anything on our origin, and the file an agent sends (`OutgoingFile`).

The type is read from the file's first bytes, never from its name or what the customer's
app claimed: "receipt.jpg" may be an HTML page. Only types a browser shows without running
script are named (images, PDF, audio, plain text); anything else, HTML and SVG included,
is application/octet-stream. Every file goes out as an attachment with `nosniff` and a
sandboxing Content-Security-Policy, so even a file we misjudge cannot script the console.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

DOWNLOAD = "application/octet-stream"
TEXT = "text/plain"
# The allow-list, with the extension a saved copy gets.
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/aac": ".aac",
    "audio/mp4": ".m4a",
    "audio/wav": ".wav",
    "audio/flac": ".flac",
    TEXT: ".txt",
}
_M4A_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ")
# Ogg carries audio or video; the first page names the codec.
_OGG_AUDIO = (b"OpusHead", b"\x01vorbis", b"\x7fFLAC", b"Speex   ")
# A tag, comment, doctype or processing instruction: markup, even if the rest is text.
_MARKUP = re.compile(rb"<[A-Za-z!?/]")
# Control characters that plain text does not have (tab, newlines and form feed are fine).
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')
_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


def sniff(content: bytes) -> str:
    """The content type of `content` if it is on the allow-list, else application/octet-stream."""
    head = content[:64]
    return _image_or_document(head) or _audio(head) or (TEXT if _plain_text(content) else DOWNLOAD)


def _image_or_document(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _audio(head: bytes) -> str | None:
    if head.startswith(b"OggS"):
        # The codec's header starts the first page's payload (27 bytes + segment table).
        payload = head[27 + head[26] :] if len(head) > 27 else b""
        return "audio/ogg" if payload.startswith(_OGG_AUDIO) else None
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: sync bits, layer 00
            return "audio/aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame: sync, a layer
            return "audio/mpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return "audio/mp4"
    return None


def _plain_text(content: bytes) -> bool:
    """UTF-8 without binary controls and without anything a browser could read as markup."""
    if not content or _BINARY.search(content) or _MARKUP.search(content):
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def attachment_name(name: str | None, kind: str, fallback: str) -> str:
    """A file name to save under: the customer's (or `fallback`), without path or control
    characters; an allowed type gets its own extension whatever the name said."""
    cleaned = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", name or ""))
    cleaned = cleaned.strip(" ._") or fallback
    if kind in EXTENSIONS:
        stem = cleaned.rsplit(".", 1)[0] if "." in cleaned else cleaned
        cleaned = stem + EXTENSIONS[kind]
    if len(cleaned) > _MAX_NAME:
        stem, dot, extension = cleaned.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        cleaned = cleaned[: _MAX_NAME - len(keep) - 1] + (f".{keep}" if keep else "")
    return cleaned


def download_headers(kind: str, name: str) -> dict[str, str]:
    """Headers for serving a customer's file: always a download, never run, never cached."""
    ascii_name = _ASCII_NAME.sub("_", name).strip("_")
    if not ascii_name.strip("."):
        ascii_name = "file"
    elif ascii_name.startswith("."):
        ascii_name = f"file{ascii_name}"  # "حساب.pdf" -> "file.pdf", not a hidden ".pdf"
    content_type = f"{kind}; charset=utf-8" if kind == TEXT else kind
    return {
        "Content-Type": content_type,
        # Quoted ASCII for old clients, the real name (RFC 6266/5987) for the rest.
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }


# An agent's file to a customer: what WhatsApp takes for audio and video (images 5 MB,
# checked by the channel); a document could be larger there, but not through a chat.
MAX_OUTGOING = 16 * 1024 * 1024


@dataclass(frozen=True)
class OutgoingFile:
    """A file an agent sends to the customer of their ticket, its type read from its
    bytes (`sniff`, never the name the browser gave) and always on the allow-list."""

    content: bytes
    kind: str
    name: str
    caption: str = ""

    @classmethod
    def checked(cls, content: bytes, name: str | None, caption: str = "") -> OutgoingFile:
        """The file, or ValueError saying why it cannot be sent."""
        if not content:
            raise ValueError("the file is empty")
        if len(content) > MAX_OUTGOING:
            raise ValueError(f"the file is larger than {MAX_OUTGOING // (1024 * 1024)} MB")
        kind = sniff(content)
        if kind == DOWNLOAD:
            raise ValueError("only images, PDF, audio and plain text can be sent to customers")
        return cls(content, kind, attachment_name(name, kind, "file"), caption.strip())

    def described(self) -> str:
        """How the transcript shows it."""
        return f"[file] {self.name}" + (f" {self.caption}" if self.caption else "")
