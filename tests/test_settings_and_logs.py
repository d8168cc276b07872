"""Settings from the environment, and logging that never shows the bot token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.logs import RedactToken
from bot.settings import (
    DEFAULT_API_BASE_URL,
    SHIPPED_PLAN,
    Settings,
    SettingsError,
    settings_from_env,
)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory: the default data dir "data" is relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- settings ---------------------------------------------------------------------------


def test_shipped_plan_is_the_one_in_the_repository() -> None:
    assert SHIPPED_PLAN == ROOT / "data" / "plan.toml"
    assert SHIPPED_PLAN.is_file()


def test_defaults(elsewhere: Path) -> None:
    s = settings_from_env({})
    assert s.token is None
    assert s.api_base_url == DEFAULT_API_BASE_URL
    assert s.team_chat_id is None
    assert s.allowed_chat_ids == frozenset()
    assert s.admin_ids == frozenset()
    assert s.chat_ids == frozenset()
    assert s.timezone == ZoneInfo("Europe/Berlin")
    assert s.data_dir == Path("data")
    assert s.plan_path == SHIPPED_PLAN
    assert s == Settings()


def test_blank_values_count_as_unset(elsewhere: Path) -> None:
    blank = {name: "  " for name in (
        "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "APBOT_TEAM_CHAT_ID",
        "APBOT_ALLOWED_CHAT_IDS", "APBOT_ADMIN_IDS", "APBOT_TIMEZONE", "APBOT_DATA_DIR",
        "APBOT_PLAN")}
    assert settings_from_env(blank) == Settings()


def test_all_values(elsewhere: Path) -> None:
    s = settings_from_env({
        "TELEGRAM_BOT_TOKEN": f" {TOKEN} ",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
        "APBOT_TEAM_CHAT_ID": " -1001234567890 ",
        "APBOT_ALLOWED_CHAT_IDS": "-100111, -100222 ,,  -100333",
        "APBOT_ADMIN_IDS": " 11 ,22,33 ",
        "APBOT_TIMEZONE": "Europe/Vienna",
        "APBOT_DATA_DIR": "/srv/apbot",
    })
    assert s.token == TOKEN
    assert s.api_base_url == "http://127.0.0.1:8081/bot"
    assert s.team_chat_id == "-1001234567890"
    assert s.allowed_chat_ids == frozenset({"-100111", "-100222", "-100333"})
    assert s.admin_ids == frozenset({"11", "22", "33"})
    assert s.chat_ids == frozenset({"-1001234567890", "-100111", "-100222", "-100333"})
    assert s.timezone == ZoneInfo("Europe/Vienna")
    assert s.data_dir == Path("/srv/apbot")


def test_token_is_not_in_repr(elsewhere: Path) -> None:
    s = settings_from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert TOKEN not in repr(s)


@pytest.mark.parametrize(("name", "value"), [
    ("APBOT_TEAM_CHAT_ID", "Koordinierungsteam"),
    ("APBOT_TEAM_CHAT_ID", "-100 123"),
    ("APBOT_ALLOWED_CHAT_IDS", "-100111, abc"),
    ("APBOT_ADMIN_IDS", "11; 22"),
    ("APBOT_ADMIN_IDS", "1.5"),
])
def test_a_bad_id_names_the_variable(elsewhere: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_from_env({name: value})
    assert str(err.value).startswith(f"{name}:")
    assert "keine Chat- oder Nutzer-ID" in str(err.value)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Berlin", "europe/berlin", "../etc/passwd"])
def test_bad_timezone(elsewhere: Path, tz: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_from_env({"APBOT_TIMEZONE": tz})
    assert str(err.value).startswith("APBOT_TIMEZONE:")
    assert tz in str(err.value)


def test_timezone_naming_a_region_is_a_settings_error(elsewhere: Path) -> None:
    with pytest.raises(SettingsError):
        settings_from_env({"APBOT_TIMEZONE": "Europe"})


def test_apbot_plan_is_used(elsewhere: Path) -> None:
    data = elsewhere / "daten"
    data.mkdir()
    (data / "plan.toml").write_text("# ein Plan im Datenverzeichnis\n", encoding="utf-8")
    s = settings_from_env({"APBOT_PLAN": "/etc/apbot/plan.toml", "APBOT_DATA_DIR": str(data)})
    assert s.plan_path == Path("/etc/apbot/plan.toml")


def test_plan_in_the_data_dir_is_preferred_over_the_shipped_plan(elsewhere: Path) -> None:
    data = elsewhere / "daten"
    assert settings_from_env({"APBOT_DATA_DIR": str(data)}).plan_path == SHIPPED_PLAN
    data.mkdir()
    assert settings_from_env({"APBOT_DATA_DIR": str(data)}).plan_path == SHIPPED_PLAN
    (data / "plan.toml").write_text("# ein Plan im Datenverzeichnis\n", encoding="utf-8")
    assert settings_from_env({"APBOT_DATA_DIR": str(data)}).plan_path == data / "plan.toml"


def test_plan_in_the_default_data_dir(elsewhere: Path) -> None:
    (elsewhere / "data").mkdir()
    (elsewhere / "data" / "plan.toml").write_text("# lokal\n", encoding="utf-8")
    assert settings_from_env({}).plan_path == Path("data") / "plan.toml"


# -- the token never reaches a log line ------------------------------------------------------


class Collect(logging.Handler):
    """Keeps every formatted record."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def collected() -> Iterator[tuple[logging.Logger, Collect]]:
    handler = Collect()
    handler.addFilter(RedactToken(TOKEN))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)
    logger.propagate = True


def test_token_in_the_message_is_redacted(collected: tuple[logging.Logger, Collect]) -> None:
    logger, handler = collected
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    logger.info("HTTP Request: POST %s %r", url, "HTTP/1.1 200 OK")
    logger.warning(f"token is {TOKEN}")
    assert handler.lines == [
        "INFO tests.redact: HTTP Request: POST https://api.telegram.org/bot<token>/getMe "
        "'HTTP/1.1 200 OK'",
        "WARNING tests.redact: token is <token>",
    ]


def test_token_in_the_exception_text_is_redacted(
    collected: tuple[logging.Logger, Collect]
) -> None:
    logger, handler = collected
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        logger.exception("request to %s failed", url)
    [line] = handler.lines
    assert TOKEN not in line
    assert "request to https://api.telegram.org/bot<token>/getMe failed" in line
    assert "Traceback (most recent call last)" in line
    assert "ConnectionError: cannot reach https://api.telegram.org/bot<token>/getMe" in line


def test_token_in_exc_info_passed_explicitly(collected: tuple[logging.Logger, Collect]) -> None:
    logger, handler = collected
    error = RuntimeError(f"bad token {TOKEN}")
    logger.error("handler failed", exc_info=error)
    [line] = handler.lines
    assert TOKEN not in line
    assert "RuntimeError: bad token <token>" in line


def test_anything_shaped_like_a_token_is_redacted(
    collected: tuple[logging.Logger, Collect]
) -> None:
    logger, handler = collected
    other = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    logger.info("old token %s", other)
    logger.info("chat -1001234567890 at 12:30, message 42")  # not token-shaped
    assert handler.lines == [
        "INFO tests.redact: old token <token>",
        "INFO tests.redact: chat -1001234567890 at 12:30, message 42",
    ]


def test_percent_signs_survive_redaction(collected: tuple[logging.Logger, Collect]) -> None:
    logger, handler = collected
    logger.info("AP3: %s", "60 % erledigt, 100%s")
    assert handler.lines == ["INFO tests.redact: AP3: 60 % erledigt, 100%s"]


def test_without_a_configured_token(collected: tuple[logging.Logger, Collect]) -> None:
    logger, handler = collected
    handler.filters[:] = [RedactToken(None)]
    logger.info("url %s", f"https://api.telegram.org/bot{TOKEN}/getUpdates")
    assert handler.lines == ["INFO tests.redact: url https://api.telegram.org/bot<token>/getUpdates"]


def test_the_console_writes_as_the_login_name_or_apbot_console_name(
        elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOGNAME", "aschulze")
    assert settings_from_env({}).console_name == "aschulze"
    assert settings_from_env({"APBOT_CONSOLE_NAME": " Anna Schulze "}).console_name \
        == "Anna Schulze"
