"""Settings from the environment, built in one place; tests construct `Settings` directly."""

from __future__ import annotations

import getpass
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.ids import ChatId, UserId

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# The plan that ships with apbot, next to the packages in the source tree.
SHIPPED_PLAN = Path(__file__).resolve().parent.parent / "data" / "plan.toml"


def login_name() -> str:
    """Who is at the terminal: the login name, or "Konsole" where none can be found."""
    try:
        return getpass.getuser().strip() or "Konsole"
    except (OSError, KeyError, ImportError):  # no LOGNAME/USER and no passwd entry
        return "Konsole"


class SettingsError(Exception):
    """An environment variable has a value apbot cannot use."""


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    team_chat_id: ChatId | None = None
    allowed_chat_ids: frozenset[ChatId] = frozenset()
    admin_ids: frozenset[UserId] = frozenset()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    data_dir: Path = Path("data")
    plan_path: Path = SHIPPED_PLAN
    # The author of what is typed at the console: APBOT_CONSOLE_NAME, else the login name.
    console_name: str = field(default_factory=login_name)
    # The calendar for subscription (bot/calendar_server.py): off while no port is set.
    calendar_port: int | None = None
    calendar_host: str = "127.0.0.1"
    calendar_url: str | None = None  # the public base URL, e.g. behind a reverse proxy

    @property
    def chat_ids(self) -> frozenset[ChatId]:
        """The group chats apbot serves."""
        team = {self.team_chat_id} if self.team_chat_id is not None else set()
        return self.allowed_chat_ids | team


# A Matrix room (!), user (@) or alias (#) id: sigil, local part, ":", server name.
_MATRIX_ID = re.compile(r"[!@#][^\s:]+:[^\s]+")


def _chat_id(name: str, value: str) -> str:
    """A Telegram id (an integer, kept as its canonical text) or a Matrix id, as given."""
    value = value.strip()
    if _MATRIX_ID.fullmatch(value):
        return value
    try:
        return str(int(value))
    except ValueError:
        raise SettingsError(
            f"{name}: „{value}“ ist keine Chat- oder Nutzer-ID (z. B. -1001234567890 "
            f"oder !abc:stadt.de)."
        ) from None


def _id_list(name: str, value: str) -> frozenset[str]:
    return frozenset(_chat_id(name, part) for part in value.split(",") if part.strip())


def _port(name: str, value: str) -> int | None:
    if not value.strip():
        return None
    try:
        port = int(value.strip())
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name}: „{value.strip()}“ ist kein Port (ganze Zahl von 1 bis "
                            "65535, z. B. 8787).")
    return port


def _base_url(name: str, value: str) -> str | None:
    url = value.strip().rstrip("/")
    if not url:
        return None
    if not url.startswith(("https://", "http://")) or len(url) < 10 or " " in url:
        raise SettingsError(f"{name}: „{value.strip()}“ ist keine Adresse (z. B. "
                            "https://apbot.example.de/kalender).")
    return url


def _token_file(env: Mapping[str, str]) -> str | None:
    """The token from TELEGRAM_BOT_TOKEN_FILE (a container secret, a systemd credential)."""
    name = env.get("TELEGRAM_BOT_TOKEN_FILE", "").strip()
    if not name:
        return None
    try:
        with open(name, encoding="utf-8") as file:
            return file.read(4096).strip() or None
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise SettingsError(
            f"TELEGRAM_BOT_TOKEN_FILE: {name} lässt sich nicht lesen ({reason})."
        ) from None


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Read APBOT_* and TELEGRAM_* variables; raise SettingsError naming the bad one."""
    tz_name = env.get("APBOT_TIMEZONE", "").strip() or "Europe/Berlin"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a tzdata folder
        raise SettingsError(
            f"APBOT_TIMEZONE: unbekannte Zeitzone „{tz_name}“ (z. B. Europe/Berlin)."
        ) from None
    data_dir = Path(env.get("APBOT_DATA_DIR", "").strip() or "data")
    plan = env.get("APBOT_PLAN", "").strip()
    if plan:
        plan_path = Path(plan)
    elif (data_dir / "plan.toml").is_file():
        plan_path = data_dir / "plan.toml"
    else:
        plan_path = SHIPPED_PLAN
    team = env.get("APBOT_TEAM_CHAT_ID", "").strip()
    return Settings(
        token=env.get("TELEGRAM_BOT_TOKEN", "").strip() or _token_file(env),
        api_base_url=env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL,
        team_chat_id=_chat_id("APBOT_TEAM_CHAT_ID", team) if team else None,
        allowed_chat_ids=_id_list("APBOT_ALLOWED_CHAT_IDS", env.get("APBOT_ALLOWED_CHAT_IDS", "")),
        admin_ids=_id_list("APBOT_ADMIN_IDS", env.get("APBOT_ADMIN_IDS", "")),
        timezone=tz,
        data_dir=data_dir,
        plan_path=plan_path,
        console_name=env.get("APBOT_CONSOLE_NAME", "").strip() or login_name(),
        calendar_port=_port("APBOT_CALENDAR_PORT", env.get("APBOT_CALENDAR_PORT", "")),
        calendar_host=env.get("APBOT_CALENDAR_HOST", "").strip() or "127.0.0.1",
        calendar_url=_base_url("APBOT_CALENDAR_URL", env.get("APBOT_CALENDAR_URL", "")),
    )
