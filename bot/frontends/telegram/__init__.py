"""The Telegram front-end (python-telegram-bot): polling, sending, members."""
