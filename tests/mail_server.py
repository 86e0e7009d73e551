"""What Tolk sends by SMTP, received by a real SMTP server on loopback (aiosmtpd's
Controller runs it in a thread of its own): the e-mail tests' and the e2e stack's."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage


class Inbox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"
