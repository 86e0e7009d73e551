"""The Telegram channel (python-telegram-bot): webhook or polling, in order, exactly once.

`channel.py` is what the gateway sees (a `Channel`); `connection.py` the running bot.
"""
