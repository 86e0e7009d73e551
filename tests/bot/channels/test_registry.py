"""A channel is its module plus one line in the registry: a fake one, added with one line,
gets its customers' messages through the gateway and the agent's replies pushed to it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web

from bot.app import create_app
from bot.appkeys import CHANNELS, GATEWAY, HANDOFF, STORE
from bot.channels.base import Capabilities, Channel
from bot.channels.email.channel import EmailChannel
from bot.channels.messenger.channel import InstagramChannel, MessengerChannel
from bot.channels.registry import CHANNELS as REGISTERED
from bot.channels.rest import RestChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.webchat import WebChatChannel
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.rasa_client import BotMessage
from bot.store import Conversation


class PigeonChannel(Channel):
    """A channel as small as one can be: one route in, pushes recorded."""

    name = "pigeon"
    capabilities = Capabilities(buttons=False, max_text=200, pushes=True)

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.started = self.stopped = False
        self.pushed: list[tuple[str, list[str]]] = []

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/pigeon/in", self.receive)]

    async def start(self, app: web.Application) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        outcome = await request.app[GATEWAY].handle(self.inbound(body["from"], body["text"]))
        return web.json_response({"texts": [message.text for message in outcome.messages]})

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        self.pushed.append((conversation.sender, [message.text for message in messages]))


def pigeon_of(app: web.Application) -> PigeonChannel:
    return next(channel for channel in app[CHANNELS] if isinstance(channel, PigeonChannel))


def test_the_registry_lists_every_channel_once() -> None:
    assert REGISTERED == (
        RestChannel,
        WebChatChannel,
        TelegramChannel,
        WhatsAppChannel,
        MessengerChannel,
        InstagramChannel,
        EmailChannel,
    )
    names = [channel.name for channel in REGISTERED]
    assert names == ["rest", "web", "telegram", "whatsapp", "messenger", "instagram", "email"]
    assert len(set(names)) == len(names)


async def test_a_registered_channel_gets_inbound_and_agent_replies(
    aiohttp_client, settings, fake_rasa
):
    # The one line: the registered channels plus this one.
    client = await aiohttp_client(create_app(settings, channels=(*REGISTERED, PigeonChannel)))
    pigeon = pigeon_of(client.app)
    assert pigeon.started

    fake_rasa.replies = [{"text": "Hello from the bot"}]
    response = await client.post("/pigeon/in", json={"from": "anna", "text": "hello"})
    assert response.status == 200
    assert (await response.json())["texts"][-1] == "Hello from the bot"
    # Its conversation key names the channel, and Rasa is told which channel it is.
    assert fake_rasa.received[-1]["sender"] == "pigeon-anna"
    assert fake_rasa.received[-1]["metadata"]["channel"] == "pigeon"
    conversation = await client.app[STORE].conversation("pigeon-anna")
    assert conversation is not None and conversation.channel == "pigeon"
    assert pigeon.pushed == []  # a reply is the response, not a push

    response = await client.post("/pigeon/in", json={"from": "anna", "text": "/human"})
    assert response.status == 200
    ticket = await client.app[HANDOFF].active(conversation.id)
    assert ticket is not None
    new = await client.app[HANDOFF].agents.add("Ana", ("en",), password="a long password")
    auth = {"Authorization": f"Bearer {new.token}"}
    claimed = await client.post(f"/api/v1/agent/tickets/{ticket.id}/claim", headers=auth)
    assert claimed.status == 200, await claimed.text()
    sent = await client.post(
        f"/api/v1/agent/tickets/{ticket.id}/messages", json={"text": "Ana here."}, headers=auth
    )
    assert sent.status == 201, await sent.text()
    assert pigeon.pushed and all(sender == "pigeon-anna" for sender, _ in pigeon.pushed)
    assert ["Ana here."] in [texts for _, texts in pigeon.pushed]

    await client.close()
    assert pigeon.stopped


async def test_routes_come_from_the_channels(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings))
    paths = {route.resource.canonical for route in client.app.router.routes()}
    for channel in client.app[CHANNELS]:
        for route in channel.routes():
            # "{sender:[^/]+}" is "{sender}" in the canonical form the router lists.
            assert re.sub(r"\{(\w+):[^{}]*\}", r"{\1}", route.path) in paths
