"""The delivery port: a push reaches the channel its conversation key names, and no other."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from aiohttp import web

from bot.channels.base import Capabilities, Channel
from bot.delivery import Delivery
from bot.rasa_client import BotMessage
from bot.store import Conversation


class Recording(Channel):
    capabilities = Capabilities(buttons=True, max_text=100, pushes=True)

    def __init__(self, name: str, *, fails: bool = False) -> None:
        self.name = name  # one class, several names for the test
        self.fails = fails
        self.got: list[tuple[str, list[str]]] = []

    def routes(self) -> list[web.AbstractRouteDef]:
        return []

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        if self.fails:
            raise RuntimeError("the channel's API is down")
        self.got.append((conversation.sender, [message.text for message in messages]))


def conversation(sender: str) -> Conversation:
    return Conversation(
        id=1, sender=sender, channel=sender.partition("-")[0], language="en", customer_name=None
    )


async def test_a_push_goes_to_the_channel_named_by_the_key() -> None:
    alpha, beta = Recording("alpha"), Recording("beta")
    delivery = Delivery([alpha, beta])
    await delivery.deliver(conversation("beta-42"), [BotMessage("hi")])
    assert beta.got == [("beta-42", ["hi"])] and alpha.got == []


async def test_a_key_is_matched_by_its_whole_prefix() -> None:
    alpha = Recording("alpha")
    delivery = Delivery([alpha])
    # "alphabet-1" is not a conversation of "alpha", nor is a key without a channel.
    for key in ("alphabet-1", "alpha", "1-alpha-"):
        await delivery.deliver(conversation(key), [BotMessage("hi")])
    assert alpha.got == []
    assert delivery.channel_of("alpha-x-y") is alpha


async def test_a_failing_channel_is_logged_and_the_caller_goes_on(caplog) -> None:
    broken = Recording("broken", fails=True)
    with caplog.at_level(logging.ERROR, logger="bot.delivery"):
        await Delivery([broken]).deliver(conversation("broken-1"), [BotMessage("hi")])
    assert "delivering to broken failed" in caplog.text


@pytest.mark.parametrize("names", [("same", "same"), ("with-dash",)])
def test_channel_names_are_whole_and_unique(names) -> None:
    with pytest.raises(ValueError):
        Delivery([Recording(name) for name in names])
