"""German formats and Telegram HTML: dates, day counts, escaping, splitting long messages."""

from __future__ import annotations

import html
import re
from datetime import date

TELEGRAM_LIMIT = 4096
WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")


def esc(text: str) -> str:
    """Escape user or plan text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def day(d: date) -> str:
    """ "Do., 31.12.2026" """
    return f"{WEEKDAYS[d.weekday()]}, {d:%d.%m.%Y}"


def short_day(d: date) -> str:
    """ "31.12.2026" """
    return f"{d:%d.%m.%Y}"


def days(n: int) -> str:
    return "1 Tag" if abs(n) == 1 else f"{abs(n)} Tagen"


def until(days_left: int) -> str:
    """ "heute", "morgen", "in 35 Tagen", "seit 12 Tagen überfällig" """
    if days_left == 0:
        return "heute"
    if days_left == 1:
        return "morgen"
    if days_left > 1:
        return f"in {days(days_left)}"
    return f"seit {days(days_left)} überfällig"


def ago(days_past: int) -> str:
    """ "heute", "gestern", "vor 3 Tagen" """
    if days_past <= 0:
        return "heute"
    return "gestern" if days_past == 1 else f"vor {days(days_past)}"


def trim(text: str, limit: int) -> str:
    """Shorten text to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_TAG = re.compile(r"<[^>]+>")


def to_plain(message: str) -> str:
    """Telegram HTML → terminal text."""
    return html.unescape(_TAG.sub("", message))


def split_message(message: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at line boundaries into parts of at most `limit` characters.

    Our HTML never lets a tag span lines, so a cut between lines keeps every
    part well-formed. A single line longer than the limit is cut at a space,
    outside any HTML entity.
    """
    parts: list[str] = []
    current = ""
    for line in message.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            amp = line.rfind("&", 0, cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp or limit
            head, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = line
    if current or not parts:
        parts.append(current)
    return [p for p in parts if p.strip()] or [message[:limit]]
