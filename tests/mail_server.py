"""What Tolk sends by SMTP, received by a real SMTP server on loopback (aiosmtpd's
Controller runs it in a thread of its own): the e-mail tests' and the e2e stack's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def smtp_inbox(port: int) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1:`port` for as long as the block runs; its inbox."""
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
