"""The latency baseline: a bare python-telegram-bot echo bot.

Same library, same long polling and the same environment variables as apbot
(TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL), but no store, no plan and no rate
limiter: it answers every text message with its own text via `reply_text`.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:8080/bot python -m bench.echo_bot
"""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message with its text."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> int:
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        print("echo_bot: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    # As apbot does: retry-after as a timedelta, without the deprecation warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    base_url = os.environ.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
