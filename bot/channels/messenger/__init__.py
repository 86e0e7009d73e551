"""Messenger and Instagram (Meta's Messenger Platform, plain aiohttp: bot/channels/meta/).

One webhook, `GET/POST /messenger/webhook`, serves both: a delivery's `object` says which
(`page` or `instagram`); `channel.py` has the two channels, `events.py` reads deliveries.
"""
