"""Rasa's channel set-up as `rasa run --credentials credentials.yml` does it, with an agent
that echoes instead of a model: `python -m tests.rasa_channels.serve_gateway <port>`."""

from __future__ import annotations

import sys

from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from scripts.stack import ROOT


class EchoAgent:
    async def handle_message(self, message) -> None:
        await message.output_channel.send_text_message(message.sender_id, f"echo {message.text}")


def main() -> None:
    app = Sanic("gateway_channel_test")
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    register(channels, app, route="/webhooks/")
    app.ctx.agent = EchoAgent()
    app.run("127.0.0.1", int(sys.argv[1]), workers=1, access_log=False)


if __name__ == "__main__":
    main()
