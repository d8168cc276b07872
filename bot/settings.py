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
    # The calendar for subscription (bot/frontends/calendar_server.py): off while no port is set.
    calendar_port: int | None = None
    calendar_host: str = "127.0.0.1"
    calendar_url: str | None = None  # the public base URL, e.g. behind a reverse proxy
    # Matrix (bot/frontends/matrix): the homeserver's URL, apbot's user id, and the access
    # token (preferred) or the password. Secrets live only in the environment or in a file
    # the operator names (APBOT_MATRIX_ACCESS_TOKEN_FILE, APBOT_MATRIX_PASSWORD_FILE).
    matrix_homeserver: str | None = None
    matrix_user: str | None = None
    matrix_access_token: str | None = field(default=None, repr=False)
    matrix_password: str | None = field(default=None, repr=False)

    @property
    def matrix(self) -> bool:
        """Matrix is configured: homeserver, user, and a token or a password."""
        return bool(self.matrix_homeserver and self.matrix_user
                    and (self.matrix_access_token or self.matrix_password))

    @property
    def chat_ids(self) -> frozenset[ChatId]:
        """The group chats apbot serves."""
        team = {self.team_chat_id} if self.team_chat_id is not None else set()
        return self.allowed_chat_ids | team


# A Matrix room (!), user (@) or alias (#) id: sigil, local part, ":", server name. Rooms
# of version 12 (Synapse's default since 1.135) have ids without a server: "!<hash>".
_MATRIX_ID = re.compile(r"[!@#][^\s:]+:[^\s]+|![A-Za-z0-9_-]{20,}")


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


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """NAME from the environment, else the first line of the file NAME_FILE names."""
    value = env.get(name, "").strip()
    if value:
        return value
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"{name}_FILE: „{path}“ lässt sich nicht lesen "
                            f"({getattr(err, 'strerror', None) or err}).") from None
    return lines[0].strip() if lines and lines[0].strip() else None


def _matrix(env: Mapping[str, str]) -> dict[str, str | None]:
    homeserver = env.get("APBOT_MATRIX_HOMESERVER", "").strip().rstrip("/") or None
    user = env.get("APBOT_MATRIX_USER", "").strip() or None
    if homeserver and not homeserver.startswith(("https://", "http://")):
        raise SettingsError(f"APBOT_MATRIX_HOMESERVER: „{homeserver}“ ist keine Adresse "
                            f"(z. B. https://matrix.stadt.de).")
    if user and not (user.startswith("@") and ":" in user):
        raise SettingsError(f"APBOT_MATRIX_USER: „{user}“ ist keine Matrix-ID "
                            f"(z. B. @apbot:stadt.de).")
    token = _secret(env, "APBOT_MATRIX_ACCESS_TOKEN")
    password = None if token else _secret(env, "APBOT_MATRIX_PASSWORD")
    if homeserver or user or token or password:
        for name, value in (("APBOT_MATRIX_HOMESERVER", homeserver),
                            ("APBOT_MATRIX_USER", user),
                            ("APBOT_MATRIX_ACCESS_TOKEN", token or password)):
            if not value:
                raise SettingsError(
                    f"{name}: fehlt – für Matrix braucht apbot APBOT_MATRIX_HOMESERVER, "
                    "APBOT_MATRIX_USER und APBOT_MATRIX_ACCESS_TOKEN (oder "
                    "APBOT_MATRIX_PASSWORD).")
    return {"matrix_homeserver": homeserver, "matrix_user": user,
            "matrix_access_token": token, "matrix_password": password}


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
        **_matrix(env),
    )
