"""Reading replies from TOLK_IMAP_URL: new UIDs since the last one stored, each handed to
the channel, marked \\Seen only once it is stored, the UID remembered (email_mailboxes)
so nothing is read twice (a new UIDVALIDITY starts over, as RFC 3501 asks).

imaplib (stdlib) in a worker thread (`asyncio.to_thread`): no asyncio IMAP client is in
the locked environment, a poll is a handful of short commands every
TOLK_EMAIL_POLL_SECONDS, and in a thread it never blocks the event loop. Fetches use
BODY.PEEK[] (nothing is marked read by fetching) and skip mails over MAX_RAW by
RFC822.SIZE first.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import ssl
from collections.abc import Awaitable, Callable

from bot.channels.email.mail import MAX_RAW
from bot.channels.email.threads import ThreadStore
from bot.channels.email.urls import MailServer

log = logging.getLogger(__name__)
# Mails taken per poll: a full mailbox is read over several polls, not in one long one.
BATCH = 20
TIMEOUT = 30.0


class ImapSession:
    """One logged-in, selected connection (blocking; used from a worker thread)."""

    def __init__(self, server: MailServer, context: ssl.SSLContext | None = None) -> None:
        self.server = server
        context = context or ssl.create_default_context()
        if server.tls:
            self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                server.host, server.port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            self.imap = imaplib.IMAP4(server.host, server.port, timeout=TIMEOUT)
            if server.starttls:
                self.imap.starttls(context)
        self.imap.login(server.user or "", server.password or "")
        status, _ = self.imap.select(server.mailbox)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select the mailbox {server.mailbox!r}")
        validity = self.imap.response("UIDVALIDITY")[1]
        self.uidvalidity = int(validity[0]) if validity and validity[0] else 0

    def new_uids(self, after: int) -> list[int]:
        status, data = self.imap.uid("SEARCH", f"UID {after + 1}:*")
        if status != "OK" or not data or not data[0]:
            return []
        # "n:*" always includes the highest UID, even when it is below n.
        uids = sorted(int(u) for u in data[0].split() if u.isdigit() and int(u) > after)
        return uids[:BATCH]

    def fetch(self, uid: int) -> bytes | None:
        """The raw mail, or None when it is larger than MAX_RAW or gone."""
        status, data = self.imap.uid("FETCH", str(uid), "(RFC822.SIZE)")
        if status != "OK" or not data or not isinstance(data[0], bytes):
            return None
        head = data[0]
        start = head.find(b"RFC822.SIZE ")
        words = head[start + 12 :].split(b")")[0].split() if start >= 0 else []
        digits = words[0] if words else b""
        if not digits.isdigit() or int(digits) > MAX_RAW:
            return None
        status, data = self.imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        for item in data or []:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None

    def mark_seen(self, uid: int) -> None:
        self.imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        try:
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


class ImapPoller:
    def __init__(
        self,
        server: MailServer,
        threads: ThreadStore,
        handle: Callable[[bytes], Awaitable[object]],
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.threads = threads
        self.handle = handle
        self.context = context

    async def poll(self) -> int:
        """Read what is new once; how many mails were handled."""
        session = await asyncio.to_thread(ImapSession, self.server, self.context)
        try:
            name = f"{self.server.user}@{self.server.host}:{self.server.port}/{self.server.mailbox}"
            known = await self.threads.mailbox(name)
            after = known[1] if known and known[0] == session.uidvalidity else 0
            handled = 0
            for uid in await asyncio.to_thread(session.new_uids, after):
                raw = await asyncio.to_thread(session.fetch, uid)
                if raw is not None:
                    await self.handle(raw)  # stored (or deliberately ignored) from here on
                    handled += 1
                await asyncio.to_thread(session.mark_seen, uid)
                await self.threads.read_upto(name, session.uidvalidity, uid)
            return handled
        finally:
            await asyncio.to_thread(session.close)

    async def run(self, every: float) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the mail server is down: try again next time
                log.warning("reading mail failed (%s); trying again", type(error).__name__)
            await asyncio.sleep(every)
