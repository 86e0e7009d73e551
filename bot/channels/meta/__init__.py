"""What WhatsApp, Messenger and Instagram share (all are Meta's Graph API, plain aiohttp):
the webhook handshake and signature (webhook.py), the send client with bounded retries
(graph.py), messages stored once and handled in order per customer (inbound.py, intake.py),
what was sent and became of it (outbound.py) and the 24-hour window (window.py).
"""
