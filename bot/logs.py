"""Logging set-up that keeps the bot token out of every log line."""

from __future__ import annotations

import logging
import re

# Telegram tokens look like "123456789:AA..."; URLs carry them as ".../bot<token>/method".
TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


class RedactToken(logging.Filter):
    """Replace the configured token (and anything shaped like one) with "<token>"."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def redact(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<token>")
        return TOKEN_PATTERN.sub("<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # Format the traceback now so that the redacted text replaces it.
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.redact(message)
        record.args = None
        return True


def setup_logging(token: str | None, level: int = logging.INFO) -> None:
    """Log to stderr, token redacted; httpx only at WARNING (its INFO lines carry the URL)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
