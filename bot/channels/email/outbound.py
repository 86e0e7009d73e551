"""Sending a conversation's messages by e-mail through TOLK_SMTP_URL (aiosmtplib).

Each mail names its thread three ways (bot/channels/email/refs.py): Message-ID, Reply-To
and the subject tag; it answers the last one sent (In-Reply-To, References) so clients
show one thread; and it says `Auto-Submitted: auto-generated` (RFC 3834), so that
customers' vacation responders do not answer it and start a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from bot.channels.email.refs import message_id, reply_to, subject_tag
from bot.channels.email.threads import Thread
from bot.channels.email.urls import MailServer, check_address
from bot.errors import Unavailable

log = logging.getLogger(__name__)
TIMEOUT = 20.0


class SmtpSender:
    def __init__(self, server: MailServer, from_header: str) -> None:
        self.server = server
        self.from_header = from_header
        self.address = check_address(from_header)

    def compose(
        self, thread: Thread, subject: str, paragraphs: Sequence[str], footer: str
    ) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.from_header
        mail["To"] = thread.address
        mail["Subject"] = f"{subject_tag(thread.reference)} {subject}"
        mail["Reply-To"] = reply_to(thread.reference, self.address)
        mail["Message-ID"] = message_id(thread.reference, self.address.partition("@")[2])
        mail["Date"] = formatdate(localtime=False)
        mail["Auto-Submitted"] = "auto-generated"
        if thread.last_message_id:
            mail["In-Reply-To"] = thread.last_message_id
            mail["References"] = thread.last_message_id
        body = "\n\n".join(p.strip() for p in paragraphs if p.strip())
        mail.set_content(f"{body}\n\n-- \n{footer}\n", charset="utf-8")
        return mail

    async def send(self, mail: EmailMessage) -> None:
        server = self.server
        try:
            await aiosmtplib.send(
                mail,
                hostname=server.host,
                port=server.port,
                username=server.user,
                password=server.password,
                use_tls=server.tls,
                start_tls=server.starttls,
                timeout=TIMEOUT,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            log.warning("sending an e-mail failed: %s", type(error).__name__)
            raise Unavailable("the mail server did not take the e-mail; try again") from None
