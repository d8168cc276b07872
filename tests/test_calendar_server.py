"""The calendar for subscription: `/kalender abo`, the secret, and the HTTP server on loopback."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.calendar_feed import SECRET_FILE, feed_path, read_secret
from bot.core import Core
from bot.frontends.calendar_server import CalendarServer, start_calendar_server
from bot.messages import Context, Incoming
from bot.settings import Settings, SettingsError, settings_from_env
from tests.conftest import TEST_PLAN
from workflows.plan import Plan
from workflows.progress import Author, MilestoneMark
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TEAM = -100123
ADMIN, ANNA = 1, 2
M21 = "apbot-milestone-M2.1@bildungskommunen"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Port 0 only in tests: the server picks a free one (from the environment: 1–65535).
    return Settings(team_chat_id=TEAM, admin_ids=frozenset({ADMIN}), timezone=TZ,
                    data_dir=tmp_path / "data", plan_path=TEST_PLAN, calendar_port=0)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOW)
    yield s
    s.close()


@pytest.fixture
async def server(core: Core) -> AsyncIterator[CalendarServer]:
    started = await start_calendar_server(lambda: core.ctx, lambda: NOW)
    assert started is not None
    yield started
    await started.stop()


def ask(core: Core, text: str, user_id: int = ADMIN, chat_type: str = "private") -> str:
    chat = user_id if chat_type == "private" else TEAM
    [reply] = core.handle(Incoming(text=text, chat_id=chat, user_id=user_id, user_name="Anna",
                                   chat_type=chat_type, message_id="1"), NOW)
    return reply.text


async def fetch(port: int, path: str, method: str = "GET",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A real HTTP request to the server on loopback (http.client, in a thread)."""
    def request() -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()
    return await asyncio.to_thread(request)


def url_path(text: str) -> str:
    """The path of the address in `/kalender abo`'s answer."""
    url = text.split("<code>")[1].split("</code>")[0]
    assert url.startswith("http://127.0.0.1:")
    return "/" + url.split("/", 3)[3]


# -- settings -------------------------------------------------------------------


def test_subscription_is_off_by_default(tmp_path: Path) -> None:
    settings = settings_from_env({"APBOT_DATA_DIR": str(tmp_path)})
    assert settings.calendar_port is None
    assert settings.calendar_host == "127.0.0.1" and settings.calendar_url is None
    on = settings_from_env({"APBOT_CALENDAR_PORT": "8787", "APBOT_CALENDAR_HOST": "0.0.0.0",
                            "APBOT_CALENDAR_URL": "https://apbot.example.de/kalender/"})
    assert (on.calendar_port, on.calendar_host) == (8787, "0.0.0.0")
    assert on.calendar_url == "https://apbot.example.de/kalender"


@pytest.mark.parametrize(("name", "value"), [
    ("APBOT_CALENDAR_PORT", "http"), ("APBOT_CALENDAR_PORT", "0"),
    ("APBOT_CALENDAR_PORT", "70000"), ("APBOT_CALENDAR_URL", "apbot.example.de"),
])
def test_bad_subscription_settings_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})


async def test_no_server_without_a_port(plan: Plan, store: Store, settings: Settings) -> None:
    ctx = Context(replace(settings, calendar_port=None), plan, store)
    assert await start_calendar_server(lambda: ctx, lambda: NOW) is None


# -- the command ------------------------------------------------------------------


def test_kalender_abo_gives_admins_the_address_and_how_to_subscribe(core: Core) -> None:
    text = ask(core, "/kalender abo")
    path = url_path(text)
    secret = read_secret(core.ctx.settings.data_dir)
    assert secret is not None and len(secret) >= 40
    assert path == feed_path(secret) == f"/{secret}/arbeits-und-zeitplan.ics"
    assert "Outlook" in text and "Aus dem Internet abonnieren" in text
    assert "Thunderbird" in text and "Im Netzwerk" in text
    assert "/kalender abo neu" in text
    assert "APBOT_CALENDAR_URL ist nicht gesetzt" in text
    assert url_path(ask(core, "/kalender abo")) == path  # the same address again
    mode = (core.ctx.settings.data_dir / SECRET_FILE).stat().st_mode & 0o777
    assert mode == 0o600


def test_kalender_abo_neu_replaces_the_address(core: Core) -> None:
    old = url_path(ask(core, "/kalender abo"))
    text = ask(core, "/kalender abo neu")
    new = url_path(text)
    assert new != old and "alte Adresse funktioniert nicht mehr" in text
    assert url_path(ask(core, "/Kalender Abo")) == new


def test_kalender_abo_with_a_public_address(core: Core) -> None:
    core.ctx = replace(core.ctx, settings=replace(
        core.ctx.settings, calendar_url="https://apbot.example.de/kalender"))
    text = ask(core, "/kalender abo")
    secret = read_secret(core.ctx.settings.data_dir)
    assert (f"<code>https://apbot.example.de/kalender/{secret}/arbeits-und-zeitplan.ics</code>"
            in text)
    assert "nicht gesetzt" not in text


def test_kalender_abo_for_others_is_one_sentence(core: Core) -> None:
    for text in (ask(core, "/kalender abo", user_id=ANNA, chat_type="supergroup"),
                 ask(core, "/kalender abo neu", user_id=ANNA, chat_type="supergroup")):
        assert text == ("Die Abo-Adresse des Kalenders geben nur die Admins heraus; /kalender "
                        "schickt die Datei.")
    in_group = ask(core, "/kalender abo", chat_type="supergroup")  # an admin, in the group
    assert "nur im privaten Chat" in in_group and "http" not in in_group
    assert read_secret(core.ctx.settings.data_dir) is None  # nothing was made for them


def test_kalender_abo_while_the_server_is_off(core: Core) -> None:
    core.ctx = replace(core.ctx, settings=replace(core.ctx.settings, calendar_port=None))
    text = ask(core, "/kalender abo")
    assert "ausgeschaltet" in text and "APBOT_CALENDAR_PORT" in text and "http" not in text
    assert "ersetzt" in ask(core, "/kalender abo neu")


def test_kalender_with_other_words_is_one_sentence(core: Core) -> None:
    text = ask(core, "/kalender morgen")
    assert text.startswith("„morgen“ kenne ich bei /kalender nicht.")


# -- the server --------------------------------------------------------------------


async def test_the_address_serves_the_current_calendar(core: Core,
                                                       server: CalendarServer) -> None:
    path = url_path(ask(core, "/kalender abo"))
    status, headers, body = await fetch(server.port, path)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    cal = Calendar.from_ical(body)
    assert len(cal.walk("VEVENT")) == 8 and "METHOD" not in cal
    # HEAD: the same headers, no body; a client that has this version gets 304.
    status, head, nothing = await fetch(server.port, path, "HEAD")
    assert (status, nothing, head["ETag"]) == (200, b"", headers["ETag"])
    assert head["Content-Length"] == headers["Content-Length"]
    status, _, nothing = await fetch(server.port, path, headers={
        "If-None-Match": headers["ETag"]})
    assert (status, nothing) == (304, b"")
    # A query string (some clients add one) changes nothing.
    assert (await fetch(server.port, path + "?refresh=1"))[0] == 200


async def test_anything_else_is_404(core: Core, server: CalendarServer) -> None:
    assert (await fetch(server.port, "/"))[0] == 404  # also before there is any secret
    path = url_path(ask(core, "/kalender abo"))
    secret = path.split("/")[1]
    wrong = ("A" if secret[0] != "A" else "B") + secret[1:]
    for other in ("/", "/favicon.ico", f"/{secret}", f"/{secret}/", f"/{wrong}/"
                  "arbeits-und-zeitplan.ics", f"/{secret}/plan.ics", f"/{secret}/../apbot.json",
                  f"/x{path}", f"{path}/", f"/{secret[:-1]}/arbeits-und-zeitplan.ics",
                  "/apbot.json", "/calendar-secret.txt"):
        status, _, body = await fetch(server.port, other)
        assert status == 404, other
        assert b"BEGIN:VCALENDAR" not in body and secret.encode() not in body
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        assert (await fetch(server.port, path, method))[0] == 404
    assert (await fetch(server.port, path))[0] == 200  # the server still answers


async def test_a_new_secret_retires_the_old_address_at_once(core: Core,
                                                            server: CalendarServer) -> None:
    old = url_path(ask(core, "/kalender abo"))
    assert (await fetch(server.port, old))[0] == 200
    new = url_path(ask(core, "/kalender abo neu"))
    assert (await fetch(server.port, old))[0] == 404
    assert (await fetch(server.port, new))[0] == 200


async def test_plan_and_marks_changed_in_the_chat_show_at_the_next_fetch(
        core: Core, server: CalendarServer) -> None:
    path = url_path(ask(core, "/kalender abo"))

    async def m21() -> tuple[int, date, str]:
        cal = Calendar.from_ical((await fetch(server.port, path))[2])
        [event] = [e for e in cal.walk("VEVENT") if e["UID"] == M21]
        return int(event["SEQUENCE"]), event.start, str(event["SUMMARY"])

    assert await m21() == (0, date(2026, 3, 31), "M2.1 Leitbild (Beschluss überfällig) – AP 2")
    core.ctx.store.add_mark(MilestoneMark("M2.1", date(2026, 3, 20), Author(ANNA, "Anna"), TEAM,
                                          None, NOW), NOW)
    assert await m21() == (1, date(2026, 3, 20), "✓ M2.1 Leitbild beschlossen – AP 2")
    plan = core.ctx.plan
    renamed = replace(plan, milestones=tuple(
        replace(m, title="Leitbild verabschiedet") if m.id == "M2.1" else m
        for m in plan.milestones))
    core.set_plan(renamed)  # as a plan change taken in the chat does
    assert await m21() == (2, date(2026, 3, 20), "✓ M2.1 Leitbild verabschiedet – AP 2")
    assert await m21() == (2, date(2026, 3, 20), "✓ M2.1 Leitbild verabschiedet – AP 2")


async def test_a_client_that_sends_nothing_does_not_hold_up_others(
        core: Core, server: CalendarServer) -> None:
    path = url_path(ask(core, "/kalender abo"))
    _, idle = await asyncio.open_connection("127.0.0.1", server.port)
    _, half = await asyncio.open_connection("127.0.0.1", server.port)
    half.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n")  # head not finished
    await half.drain()
    assert (await fetch(server.port, path))[0] == 200
    garbage_reader, garbage = await asyncio.open_connection("127.0.0.1", server.port)
    garbage.write(b"\x00\xff nonsense\r\n\r\n")
    await garbage.drain()
    assert (await garbage_reader.read()).startswith(b"HTTP/1.1 404 ")
    for writer in (idle, half, garbage):
        writer.close()


async def test_stop_closes_the_port(core: Core) -> None:
    server = await start_calendar_server(lambda: core.ctx, lambda: NOW)
    assert server is not None
    port = server.port
    await server.stop()
    with pytest.raises(OSError):
        await fetch(port, "/")


async def test_a_port_in_use_is_an_oserror_for_the_front_end(core: Core) -> None:
    first = await start_calendar_server(lambda: core.ctx, lambda: NOW)
    assert first is not None
    try:
        taken = replace(core.ctx, settings=replace(core.ctx.settings, calendar_port=first.port))
        with pytest.raises(OSError):  # the Telegram front-end logs it and tells the admins
            await start_calendar_server(lambda: taken, lambda: NOW)
    finally:
        await first.stop()
