"""Logging set-up that keeps the bot token out of every log line."""

from __future__ import annotations

import logging
import re
import sys
import threading
from types import TracebackType

# Telegram tokens look like "123456789:AA..."; URLs carry them as ".../bot<token>/method".
# Synapse's access tokens: "syt_<user>_<random>_<check>" (and "syn_"/"mct_" for others).
TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|\b(?:syt|syn|mct)_[A-Za-z0-9_]{10,}")


class RedactToken(logging.Filter):
    """Replace the configured token (and anything shaped like one) with "<token>"."""

    def __init__(self, token: str | None, *secrets: str | None) -> None:
        super().__init__()
        self.token = token
        # Further secrets (Matrix access token and password), replaced wherever they appear.
        self.secrets = {s for s in secrets if s and len(s) >= 4}

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "<token>")
        if self.token:
            text = text.replace(self.token, "<token>")
            # The part after the colon is the secret; it must not show up on its own either.
            secret = self.token.partition(":")[2]
            if len(secret) >= 8:
                text = text.replace(secret, "<token>")
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


def add_secret(secret: str) -> None:
    """One more secret to keep out of the log (e.g. an access token got by logging in)."""
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, RedactToken) and len(secret) >= 4:
                f.secrets.add(secret)


def setup_logging(token: str | None, level: int = logging.INFO,
                  *secrets: str | None) -> RedactToken:
    """Log to stderr, token redacted; httpx only at WARNING (its INFO lines carry the URL).

    Uncaught exceptions (main thread, other threads) and warnings go through the same
    log, so no traceback reaches stderr past the filter.
    """
    redact = RedactToken(token, *secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redact)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "nio", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)

    def uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None,
                 ) -> None:
        logging.getLogger("apbot").critical("uncaught exception", exc_info=(kind, error, tb))

    def uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        logging.getLogger("apbot").critical(
            "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = uncaught
    threading.excepthook = uncaught_in_thread
    return redact
