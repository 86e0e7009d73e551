"""Training-example drafts for the content team: what an agent proposes the bot should
have understood, appended to a review file (TOLK_NLU_DRAFTS, default
var/review/nlu-drafts.yml), never to data/: a person reviews a draft before it becomes
training data.

The file is one YAML document, a list of drafts (who, when, language, intent, text).
Appending writes one more list entry at its end (that entry alone, dumped by PyYAML's
safe dumper, so any text is quoted as YAML needs) under an exclusive lock on a lock file
next to it, so that agents drafting at once, in one process or in several replicas, never
lose or interleave an entry; the file is not read and rewritten, so an append costs the
same however long it has grown.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import yaml

from bot.errors import Rejected, Unavailable

# A training example is a sentence or two; past this it is a message to quote, not to
# learn from (and it keeps one draft's YAML small).
MAX_TEXT = 500
# The review file refuses drafts past this size: the content team should take the drafts
# (and empty or delete the file) first. Bounds what a stolen agent token can fill.
MAX_FILE_BYTES = 5 * 1024 * 1024
HEADER = (
    "# Training-example drafts proposed by agents (python -m bot report unanswered, the\n"
    "# console's Not understood panel). Review each, move the good ones into data/nlu/ as\n"
    "# examples of their intent, then delete them here (or the whole file).\n"
)


# Characters YAML reads back as something else unless escaped: C0 and C1 controls (NEL,
# U+0085, is a line break to YAML and comes back as a space), the Unicode line and
# paragraph separators, the byte-order mark. A text with one is written double-quoted,
# where the emitter escapes them; others keep the readable style PyYAML picks.
_AWKWARD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


class _Dumper(yaml.SafeDumper):
    """safe_dump's dumper (no Python tags), with strings quoted as _AWKWARD says."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if _AWKWARD.search(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


class DraftsFull(Rejected):
    """The review file has reached MAX_FILE_BYTES."""


@dataclass(frozen=True)
class Draft:
    who: str
    when: str  # ISO 8601, UTC
    language: str
    intent: str
    text: str


class Drafts:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def add(self, who: str, language: str, intent: str, text: str, when: datetime) -> Draft:
        draft = Draft(who, when.replace(microsecond=0).isoformat() + "Z", language, intent, text)
        await asyncio.to_thread(self._append, draft)
        return draft

    def _append(self, draft: Draft) -> None:
        entry = yaml.dump(
            [asdict(draft)], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
        ).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._append_locked(entry)
            finally:
                os.close(lock)  # releases the lock
        except OSError as error:
            raise Unavailable(
                "the drafts file cannot be written just now; try again, or tell the operator",
                detail=f"{self.path}: {error}",
            ) from None

    def _append_locked(self, entry: bytes) -> None:
        with open(self.path, "a+b") as file:
            size = file.seek(0, os.SEEK_END)
            if size + len(entry) > MAX_FILE_BYTES:
                raise DraftsFull(
                    "the drafts file is full; the content team should review and clear it first"
                )
            if size == 0:
                file.write(HEADER.encode("utf-8"))
            else:
                file.seek(size - 1)
                if file.read(1) != b"\n":  # someone edited it without a final newline
                    file.write(b"\n")
            file.write(entry)
            file.flush()
            os.fsync(file.fileno())


def read_drafts(path: Path) -> list[dict]:
    """The drafts in the review file (none when there is no file)."""
    if not path.exists():
        return []
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []
