"""Every channel the gateway serves, in one list: a new channel is its folder plus a line here.

Routes (bot/routes.py), start and stop (bot/app.py) and the delivery port (bot/delivery.py)
loop over this list; nothing else names a channel.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.base import Channel
from bot.channels.email.channel import EmailChannel
from bot.channels.messenger.channel import InstagramChannel, MessengerChannel
from bot.channels.rest import RestChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.webchat import WebChatChannel
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.settings import Settings

ChannelFactory = Callable[[Settings], Channel]

CHANNELS: tuple[ChannelFactory, ...] = (
    RestChannel,
    WebChatChannel,
    TelegramChannel,
    WhatsAppChannel,
    MessengerChannel,
    InstagramChannel,
    EmailChannel,
)


def build_channels(
    settings: Settings, factories: tuple[ChannelFactory, ...] = CHANNELS
) -> tuple[Channel, ...]:
    """One instance of each channel; no I/O (they connect in `Channel.start`)."""
    return tuple(factory(settings) for factory in factories)
