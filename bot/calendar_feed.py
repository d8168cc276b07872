"""The calendar for subscription: its secret address and `/kalender abo [neu]`.

Outlook and Thunderbird take a re-imported event they already have as a duplicate and
ignore it; a subscribed address they fetch again on their own follows the plan. The
address holds a long random secret (kept in the data directory), so whoever does not
know it gets nothing: `bot/frontends/calendar_server.py` serves the file at exactly that path.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime
from pathlib import Path

from bot.access import is_admin
from bot.messages import Context, Incoming
from bot.render.format import esc
from bot.settings import Settings

log = logging.getLogger(__name__)
SECRET_FILE = "calendar-secret.txt"
FEED_NAME = "arbeits-und-zeitplan.ics"
SECRET_BYTES = 32  # 256 bits, 43 characters in the address


def read_secret(data_dir: Path) -> str | None:
    """The secret now in force, or None while there is none."""
    try:
        text = (data_dir / SECRET_FILE).read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def new_secret(data_dir: Path) -> str:
    """Replace the secret (the old address stops working at once) and return the new one."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    path = data_dir / SECRET_FILE
    tmp = path.with_suffix(".tmp")
    # Written whole or not at all, readable by the bot's user only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (secret + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return secret


def secret(data_dir: Path) -> str:
    """The secret in force, made the first time it is needed."""
    return read_secret(data_dir) or new_secret(data_dir)


def feed_path(secret_value: str) -> str:
    """The only path the calendar server answers: /<secret>/arbeits-und-zeitplan.ics."""
    return f"/{secret_value}/{FEED_NAME}"


def base_url(settings: Settings) -> str:
    """Where people reach the server: APBOT_CALENDAR_URL, else host and port themselves."""
    if settings.calendar_url:
        return settings.calendar_url
    host = settings.calendar_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.calendar_port}"


def feed_url(settings: Settings, secret_value: str) -> str:
    return base_url(settings) + feed_path(secret_value)


OFF = ("Das Kalender-Abo ist ausgeschaltet: Wer apbot betreibt, schaltet es mit der "
       "Einstellung APBOT_CALENDAR_PORT ein; bis dahin schickt /kalender die Datei zum Import.")
ADMINS_ONLY = ("Die Abo-Adresse des Kalenders geben nur die Admins heraus; /kalender schickt "
               "die Datei.")
PRIVATE_ONLY = ("Die Abo-Adresse schicke ich nur im privaten Chat, damit sie nicht weiterwandert "
                "– bitte schreiben Sie mir dort /kalender abo.")
RENEWED_OFF = ("Die Abo-Adresse ist ersetzt; das Abo ist aber ausgeschaltet (Einstellung "
               "APBOT_CALENDAR_PORT).")


def subscription_text(settings: Settings, secret_value: str, renewed: bool) -> str:
    """The address and how to subscribe to it, for an admin."""
    url = feed_url(settings, secret_value)
    lines = [
        "📅 <b>Kalender-Abo</b>" + (" – neue Adresse" if renewed else ""),
        "Diese Adresse liefert immer den aktuellen Plan (Meilensteine und Sitzungen):",
        f"<code>{esc(url)}</code>",
        "Nur im Team weitergeben: Wer die Adresse kennt, sieht den Kalender.",
        "",
        "<b>Outlook</b>: Kalender → Kalender hinzufügen → Aus dem Internet abonnieren "
        "(klassisches Outlook: Start → Kalender öffnen → Aus dem Internet …), Adresse einfügen.",
        "<b>Thunderbird</b>: Kalender → Neuer Kalender … → Im Netzwerk → Adresse als "
        "Standort einfügen → Kalender suchen → Abonnieren.",
        "Beide holen den Kalender dann selbst neu (etwa stündlich); neu importieren ist "
        "nicht nötig.",
    ]
    if renewed:
        lines.append("Die alte Adresse funktioniert nicht mehr: Wer sie abonniert hatte, "
                     "abonniert die neue.")
    else:
        lines.append("/kalender abo neu ersetzt die Adresse; die alte funktioniert dann "
                     "nicht mehr.")
    if not settings.calendar_url:
        lines.append(f"ℹ️ APBOT_CALENDAR_URL ist nicht gesetzt: Die Adresse nennt den Server "
                     f"selbst ({esc(base_url(settings))}), für andere Rechner meist über einen "
                     "Reverse Proxy mit TLS erreichbar zu machen.")
    return "\n".join(lines)


def subscription_command(ctx: Context, msg: Incoming, renew: bool, now: datetime) -> str:
    """`/kalender abo` (the address) and `/kalender abo neu` (a new one), for admins."""
    if not is_admin(ctx, msg.user_id, msg.via_console):
        return ADMINS_ONLY
    if msg.chat_type != "private" and not msg.via_console:
        return PRIVATE_ONLY
    data_dir = ctx.settings.data_dir
    if ctx.settings.calendar_port is None and not renew:
        return OFF
    try:
        value = new_secret(data_dir) if renew else secret(data_dir)
    except OSError as err:
        log.error("could not write the calendar secret: %s", err)
        return ("Die Abo-Adresse ließ sich nicht speichern (der Datenträger meldet einen "
                "Fehler); die bisherige gilt weiter.")
    if ctx.settings.calendar_port is None:
        return RENEWED_OFF
    return subscription_text(ctx.settings, value, renew)
