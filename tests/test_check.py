"""`python -m bot check`: the self-check against the local fake Bot API, with real files.

The checks run in this process (bot/cli/check.py's Probe) against the fake over HTTP;
one test runs the real `python -m bot check` process.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.check import LOW_SPACE, DiskUsage, Probe, run_checks
from tests.bot_process import REPO, bot_env
from tests.conftest import TEST_PLAN
from tests.fake_bot_api import BOT_ID, DEFAULT_GROUP_ID, FakeBotAPI
from workflows.storage import DirectoryLock, StoreLockedError
from workflows.store import Store

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
# Shaped like a real token, so that the redaction is tested on what Telegram hands out.
TOKEN = "7123456789:AAHk3kq0_secretPART-of-the-token-xyz"
SECRET = TOKEN.partition(":")[2]


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(token=TOKEN, can_read_all_group_messages=True) as fake:
        fake.add_member(DEFAULT_GROUP_ID, BOT_ID)
        yield fake


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def env_for(data: Path, api: FakeBotAPI | None, **extra: str) -> dict[str, str]:
    env = bot_env(data)
    if api is not None:
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url)
    env.update(extra)
    return env


def check(env: dict[str, str], **probe: object) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run_checks(Probe(env, NOW, **probe), out)  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert SECRET not in out.getvalue()
    return code, lines


def line_with(lines: list[str], words: str) -> str:
    found = [line for line in lines if words in line]
    assert found, f"no line with {words!r} in:\n" + "\n".join(lines)
    return found[0]


def make_database(data: Path, now: datetime = NOW) -> None:
    """A database with one day's backup: open, write on two days, close."""
    from workflows.progress import Author, Update

    store = Store.open(data, now.replace(day=1))
    store.add_update(Update(ap="AP3", text="AP3: Einladungen verschickt",
                            author=Author("1001", "Anna"), chat_id=DEFAULT_GROUP_ID,
                            message_id="1", at=now.replace(day=1)), now.replace(day=1))
    store.add_update(Update(ap="AP5", text="AP5: 30 %", author=Author("1001", "Anna"),
                            chat_id=DEFAULT_GROUP_ID, message_id="2", at=now, percent=30), now)
    store.close()


def tree(directory: Path) -> dict[str, str]:
    """Every file under `directory` with a hash of its bytes."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_all_set_up_right(api: FakeBotAPI, data: Path) -> None:
    make_database(data)
    code, lines = check(env_for(data, api))
    assert code == 0, lines
    assert all(line.startswith("✅") for line in lines[:-1]), lines
    assert "@apbot_test_bot" in line_with(lines, "Telegram kennt das Token")
    assert "„Test Group“" in line_with(lines, "Team-Chat erreichbar")
    line_with(lines, "apbot ist Mitglied des Team-Chats")
    line_with(lines, "Datenschutzmodus aus")
    line_with(lines, "Kein Webhook gesetzt")
    assert "2 Meldungen" in line_with(lines, "Datenbank öffnet sich")
    assert "02.12.2026 (heute)" in line_with(lines, "Letzte Sicherung")
    assert lines[-1] == "Ergebnis: alles in Ordnung."


def test_rejected_token_is_named_and_never_shown(api: FakeBotAPI, data: Path) -> None:
    env = env_for(data, api, TELEGRAM_BOT_TOKEN="7123456789:AAHwrongwrongwrongwrong-1234")
    code, lines = check(env)
    assert code == 1
    assert line_with(lines, "Telegram lehnt das Token ab").startswith("❌")
    assert "@BotFather" in line_with(lines, "Telegram lehnt das Token ab")
    assert "AAHwrongwrong" not in "\n".join(lines)
    assert api.unauthorized_requests  # it did ask Telegram


def test_unreachable_telegram(data: Path) -> None:
    with FakeBotAPI(token=TOKEN) as closed:
        base = closed.base_url
    code, lines = check(env_for(data, None, TELEGRAM_BOT_TOKEN=TOKEN,
                                TELEGRAM_API_BASE_URL=base))
    assert code == 1
    assert line_with(lines, "Telegram ist nicht erreichbar").startswith("❌")


def test_team_chat_not_reachable(api: FakeBotAPI, data: Path) -> None:
    api.remove_chat(DEFAULT_GROUP_ID)
    code, lines = check(env_for(data, api))
    assert code == 1
    row = line_with(lines, f"Team-Chat {DEFAULT_GROUP_ID} nicht erreichbar")
    assert row.startswith("❌") and "/start" in row


def test_bot_not_a_member(data: Path) -> None:
    with FakeBotAPI(token=TOKEN, can_read_all_group_messages=True) as api:
        code, lines = check(env_for(data, api))
    assert code == 1
    assert line_with(lines, "nicht Mitglied des Team-Chats").startswith("❌")


def test_privacy_mode_on_is_a_warning_unless_admin(data: Path) -> None:
    with FakeBotAPI(token=TOKEN, can_read_all_group_messages=False) as api:
        api.add_member(DEFAULT_GROUP_ID, BOT_ID)
        code, lines = check(env_for(data, api))
        row = line_with(lines, "Datenschutzmodus an")
        assert code == 0 and row.startswith("⚠️")
        assert "/setprivacy" in row and "Admin" in row
        api.set_admin(BOT_ID)
        code, lines = check(env_for(data, api))
    assert line_with(lines, "Datenschutzmodus an, aber apbot ist Admin").startswith("✅")
    assert line_with(lines, "Mitglied des Team-Chats, als Admin").startswith("✅")


def test_webhook_set(api: FakeBotAPI, data: Path) -> None:
    api.set_webhook("https://hooks.example.org/telegram/" + TOKEN)
    code, lines = check(env_for(data, api))
    row = line_with(lines, "Ein Webhook an hooks.example.org")
    assert row.startswith("⚠️") and "löscht ihn beim Start" in row
    assert code == 0
    # With a bot running on the directory the webhook keeps messages from it.
    data.mkdir(parents=True, exist_ok=True)
    lock = DirectoryLock(data)
    lock.acquire()
    try:
        code, lines = check(env_for(data, api))
    finally:
        lock.release()
    assert code == 1
    assert line_with(lines, "Ein Webhook an hooks.example.org").startswith("❌")
    assert "getWebhookInfo" in [c.method for c in api.calls()]
    assert "deleteWebhook" not in [c.method for c in api.calls()]  # the check changes nothing


def test_without_token_it_says_console(data: Path) -> None:
    code, lines = check(env_for(data, None))
    assert code == 0
    assert line_with(lines, "Kein TELEGRAM_BOT_TOKEN").startswith("⚠️")


def test_bad_settings_are_each_named(api: FakeBotAPI, data: Path) -> None:
    env = env_for(data, api, APBOT_TEAM_CHAT_ID="Teamgruppe", APBOT_ADMIN_IDS="1001,-100555",
                  APBOT_TIMEZONE="Europe/Bärlin")
    code, lines = check(env)
    assert code == 1
    assert line_with(lines, "APBOT_TEAM_CHAT_ID: „Teamgruppe“").startswith("❌")
    assert line_with(lines, "-100555: das ist eine Gruppe").startswith("⚠️")
    assert line_with(lines, "Europe/Bärlin").startswith("❌")
    line_with(lines, "Telegram kennt das Token")  # the other checks still run


def test_missing_team_chat_with_token_is_a_problem(api: FakeBotAPI, data: Path) -> None:
    env = env_for(data, api)
    del env["APBOT_TEAM_CHAT_ID"]
    code, lines = check(env)
    assert code == 1
    assert line_with(lines, "APBOT_TEAM_CHAT_ID fehlt").startswith("❌")


def test_bad_plan_names_entry_and_field(data: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(TEST_PLAN.read_text().replace('due = "Q1 2026"', 'due = "Q5 2026"', 1))
    code, lines = check(env_for(data, None, APBOT_PLAN=str(plan)))
    assert code == 1
    row = line_with(lines, "Der Plan lässt sich nicht laden")
    assert row.startswith("❌") and "(M2.1)" in row and "Feld „due“" in row


def test_damaged_database_points_to_the_backups(data: Path) -> None:
    make_database(data)
    (data / "apbot.json").write_text("{kaputt")
    code, lines = check(env_for(data, None))
    assert code == 1
    row = line_with(lines, "Die Datenbank lässt sich nicht öffnen")
    assert row.startswith("❌") and "python -m bot restore" in row


def test_check_changes_nothing_and_leaves_the_lock(api: FakeBotAPI, data: Path) -> None:
    make_database(data)
    env = env_for(data, api)
    lock = DirectoryLock(data)
    lock.acquire()
    try:
        before = tree(data)
        code, lines = check(env)
        assert code == 0, lines
        assert tree(data) == before
        assert f"(PID {os.getpid()})" in line_with(lines, "Ein apbot läuft")
        with pytest.raises(StoreLockedError):  # still held: a second bot stays out
            DirectoryLock(data).acquire()
    finally:
        lock.release()
    _, lines = check(env)
    line_with(lines, "Kein apbot läuft gerade")
    assert tree(data) == before


def test_quick_check_asks_nobody(api: FakeBotAPI, data: Path) -> None:
    make_database(data)
    code, lines = check(env_for(data, api), quick=True)
    assert code == 0
    assert api.calls() == []
    assert not any("Datenbank öffnet sich" in line for line in lines)


def test_low_space_from_the_disk_it_is_told(data: Path) -> None:
    data.mkdir(parents=True)
    code, lines = check(env_for(data, None),
                        disk_usage=lambda path: DiskUsage(10**9, 10**9 - 42_000_000, 42_000_000))
    assert code == 0
    assert line_with(lines, "Nur noch 42,0 MB frei").startswith("⚠️")
    _, lines = check(env_for(data, None),
                     disk_usage=lambda path: DiskUsage(10**10, 0, LOW_SPACE))
    assert line_with(lines, "100,0 MB frei").startswith("✅")


def _mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def test_nearly_full_disk(tmp_path: Path) -> None:
    """A 50 MB tmpfs of its own: below 100 MB free."""
    mount = tmp_path / "disk"
    _mount_tmpfs(mount, "size=50m")
    try:
        _, lines = check(env_for(mount / "data", None))
        assert line_with(lines, "Nur noch").startswith("⚠️")
        assert "MB frei" in line_with(lines, "Nur noch")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_read_only_data_directory(tmp_path: Path) -> None:
    """Root writes through any mode bits: then a read-only tmpfs, else chmod."""
    data = tmp_path / "data"
    if os.geteuid() == 0:
        _mount_tmpfs(data, "size=4m")
        try:
            make_database(data)
            env = env_for(data, None)
            subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True)
            code, lines = check(env)
        finally:
            subprocess.run(["umount", "-l", str(data)], check=False)
    else:
        make_database(data)
        env = env_for(data, None)
        data.chmod(0o555)
        try:
            code, lines = check(env)
        finally:
            data.chmod(0o755)
    assert code == 1
    row = line_with(lines, "ist nicht beschreibbar")
    assert row.startswith("❌") and "Schreibrecht" in row
    line_with(lines, "Datenbank öffnet sich")  # reading still works


def test_the_command_line(api: FakeBotAPI, data: Path) -> None:
    """The real `python -m bot check`: exit codes, and the token in no output."""
    env = env_for(data, api)
    done = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Ergebnis: alles in Ordnung." in done.stdout
    env["TELEGRAM_BOT_TOKEN"] = "7123456789:AAHwrongwrongwrongwrong-1234"
    env["APBOT_ADMIN_IDS"] = "Anna"
    done = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "❌ Telegram lehnt das Token ab" in done.stdout
    assert "APBOT_ADMIN_IDS: „Anna“" in done.stdout
    for secret in (SECRET, "AAHwrongwrong"):
        assert secret not in done.stdout + done.stderr


def test_token_from_a_file(api: FakeBotAPI, data: Path, tmp_path: Path) -> None:
    """TELEGRAM_BOT_TOKEN_FILE (a container secret, a systemd credential)."""
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    env = env_for(data, api, TELEGRAM_BOT_TOKEN="", TELEGRAM_BOT_TOKEN_FILE=str(secret))
    code, lines = check(env)
    assert code == 0, lines
    line_with(lines, "Telegram kennt das Token")
    env["TELEGRAM_BOT_TOKEN_FILE"] = str(tmp_path / "missing")
    code, lines = check(env)
    assert code == 1
    assert "missing lässt sich nicht lesen" in line_with(lines, "TELEGRAM_BOT_TOKEN_FILE")


def test_any_bad_setting_is_named_and_the_rest_still_checked(data: Path) -> None:
    code, lines = check(env_for(data, None, APBOT_CALENDAR_PORT="achtzig",
                                APBOT_ADMIN_IDS="Anna"))
    assert code == 1
    assert line_with(lines, "APBOT_CALENDAR_PORT").startswith("❌")
    assert line_with(lines, "APBOT_ADMIN_IDS: „Anna“").startswith("❌")
    line_with(lines, "Team-Chat eingetragen")
    line_with(lines, "Plan ")


def test_root_checking_a_directory_of_another_user_is_told(data: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root writes into any directory")
    data.mkdir(parents=True)
    os.chown(data, 12345, 12345)
    _, lines = check(env_for(data, None))
    assert "apbotctl check" in line_with(lines, "Die Prüfung läuft als root")


def test_team_chat_that_became_a_supergroup(api: FakeBotAPI, data: Path) -> None:
    api.migrate_chat(DEFAULT_GROUP_ID, -1009876543210)
    code, lines = check(env_for(data, api))
    row = line_with(lines, "ist jetzt eine Supergruppe mit der ID -1009876543210")
    assert row.startswith("⚠️") and "APBOT_TEAM_CHAT_ID=-1009876543210" in row
    assert line_with(lines, "apbot ist Mitglied des Team-Chats").startswith("✅")
    assert code == 0


# ---------------------------------------------------------------- for Matrix

MATRIX_ENV = {"APBOT_MATRIX_HOMESERVER": "http://127.0.0.1:9",  # nobody answers there
              "APBOT_MATRIX_USER": "@apbot:stadt.de",
              "APBOT_MATRIX_ACCESS_TOKEN": "syt_YXBib3Q_geheimgeheim_0abc12",
              "APBOT_TEAM_CHAT_ID": "!team:stadt.de", "APBOT_ADMIN_IDS": "@anna:stadt.de"}
TELEGRAM_WORDS = ("Telegram", "BotFather", "/start", "Gruppe")


def matrix_check(data: Path, quick: bool = True, **extra: str) -> tuple[int, list[str]]:
    code, lines = check(env_for(data, None, **{**MATRIX_ENV, **extra}), quick=quick)
    assert "geheimgeheim" not in "\n".join(lines)
    said = [line for line in lines if any(word in line for word in TELEGRAM_WORDS)]
    assert said == [], said  # running for Matrix: nothing about Telegram
    return code, lines


def test_matrix_ids_set_up_right(data: Path) -> None:
    code, lines = matrix_check(data, APBOT_ALLOWED_CHAT_IDS="!steuerung:stadt.de")
    assert code == 0, lines
    assert line_with(lines, "Team-Raum eingetragen: !team:stadt.de").startswith("✅")
    assert line_with(lines, "Admins eingetragen: @anna:stadt.de").startswith("✅")
    assert line_with(lines, "Weitere Räume: !steuerung:stadt.de").startswith("✅")
    # Without admin ids the team room's moderators are the admins: nothing to fix.
    code, lines = matrix_check(data, APBOT_ADMIN_IDS="")
    assert code == 0 and line_with(lines, "Moderator oder Admin").startswith("✅")


@pytest.mark.parametrize(("team", "says"), [
    ("", "APBOT_TEAM_CHAT_ID fehlt: apbot tritt keinem Raum bei"),
    ("Teamraum", "APBOT_TEAM_CHAT_ID: „Teamraum“ ist keine Matrix-ID (Räume: !abc:stadt.de)"),
    ("-1001234567890", "-1001234567890 ist keine Matrix-Raum-ID, kein Raum"),
    ("@anna:stadt.de", "@anna:stadt.de ist eine Person, kein Raum"),
    ("#team:stadt.de", "#team:stadt.de ist eine Raum-Adresse, nicht die Raum-ID"),
], ids=["missing", "unreadable", "telegram-id", "person", "alias"])
def test_a_wrong_team_room_is_explained_in_matrix_terms(data: Path, team: str,
                                                       says: str) -> None:
    code, lines = matrix_check(data, APBOT_TEAM_CHAT_ID=team)
    assert code == 1
    line = line_with(lines, says)
    assert line.startswith("❌") and "Raumeinstellungen → Erweitert" in line
    assert "!abc:stadt.de" in line


@pytest.mark.parametrize(("admins", "says", "symbol"), [
    ("anna", "APBOT_ADMIN_IDS: „anna“ ist keine Matrix-ID (Personen: @name:stadt.de)", "❌"),
    ("@anna:stadt.de,123456", "APBOT_ADMIN_IDS enthält 123456: das sind keine Personen",
     "⚠️"),
    ("!team:stadt.de", "APBOT_ADMIN_IDS enthält !team:stadt.de", "⚠️"),
], ids=["unreadable", "telegram-id", "room"])
def test_wrong_admin_ids_are_explained_in_matrix_terms(data: Path, admins: str, says: str,
                                                      symbol: str) -> None:
    _, lines = matrix_check(data, APBOT_ADMIN_IDS=admins)
    line = line_with(lines, says)
    assert line.startswith(symbol) and "@name:stadt.de" in line


def test_wrong_further_rooms_are_explained_in_matrix_terms(data: Path) -> None:
    code, lines = matrix_check(data, APBOT_ALLOWED_CHAT_IDS="#steuerung:stadt.de")
    assert line_with(lines, "APBOT_ALLOWED_CHAT_IDS enthält #steuerung:stadt.de").startswith(
        "⚠️")
    code, lines = matrix_check(data, APBOT_ALLOWED_CHAT_IDS="Steuerung")
    assert code == 1
    assert "!abc:stadt.de" in line_with(lines, "APBOT_ALLOWED_CHAT_IDS: „Steuerung“")


def test_a_telegram_token_beside_matrix_is_pointed_out_not_checked(api: FakeBotAPI,
                                                                    data: Path) -> None:
    """apbot runs on Matrix then: the token is named as unused, Telegram is not asked."""
    env = env_for(data, api, **MATRIX_ENV)
    code, lines = check(env)
    assert line_with(lines, "TELEGRAM_BOT_TOKEN ist gesetzt, aber").startswith("⚠️")
    assert api.calls("getMe") == []
    assert line_with(lines, "Team-Raum eingetragen").startswith("✅")
    assert code == 1 and line_with(lines, "Matrix-Server").startswith("❌")  # nobody at :9


def test_a_missing_matrix_setting_is_named_once(data: Path) -> None:
    for quick in (True, False):
        code, lines = matrix_check(data, quick=quick, APBOT_MATRIX_USER="")
        assert code == 1
        assert len([line for line in lines if "APBOT_MATRIX_USER: fehlt" in line]) == 1, lines
