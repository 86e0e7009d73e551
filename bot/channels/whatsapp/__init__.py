"""The WhatsApp channel (WhatsApp Business Cloud API, plain aiohttp: bot/channels/meta/).

`channel.py` is what the gateway sees; `deliveries.py` reads Meta's webhook deliveries,
`messages.py` builds what is sent (text, reply buttons, lists, the template).
"""
