"""What the gateway asks of e-mail when a customer says "send me this by e-mail".

The gateway reads the action's signal (tolk_core/signals.py ContinueByEmail) and words
the answer; the e-mail channel (bot/channels/email/) does the mailing. This is the seam
between them: the gateway never reaches into the channel's threads or SMTP sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bot.store import Conversation

# sent: mailed, replies thread back in · locked: the conversation continues at another
# address opened lately · invalid: not an address the mail library takes · off: no SMTP
# here · failed: the mail server did not take it, or too many mails on this conversation
Status = Literal["sent", "locked", "invalid", "off", "failed"]


@dataclass(frozen=True)
class Continued:
    status: Status
    address: str | None = None


@runtime_checkable  # bot/app.py finds the channel that offers it without naming it
class EmailContinuation(Protocol):
    async def continue_for_customer(self, conversation: Conversation, address: str) -> Continued:
        """Mail the conversation's latest answers to `address` and thread replies back."""
        ...
