"""The Telegram channel (python-telegram-bot): webhook or polling, in order, exactly once."""
