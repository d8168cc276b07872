"""End-to-end on Matrix: a real Synapse, the real `python -m bot`, the team as nio clients.

One homeserver for the session and one bot for the module keep this group fast: the
tests run in order and share the team room, each looking only at the answers to what it
sent itself.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nio import AsyncClient, AsyncClientConfig

from bot.cli.check import Probe, check_matrix, run_checks
from bot.frontends.matrix.client import TIMELINE_LIMIT
from bot.frontends.matrix.sending import Sender
from bot.render.workbook import NO_CHANGES
from tests.matrix_server import Synapse, User, free_port
from tests.matrix_team import (
    HoldingProxy,
    MatrixBot,
    Member,
    body,
    html,
    synapse_or_skip,
    until,
)
from tests.test_e2e_posts import TITLE, plan_with_meeting
from workflows.store import Store

pytestmark = pytest.mark.matrix


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    python = synapse_or_skip()
    with Synapse(tmp_path_factory.mktemp("synapse"), python) as server:
        yield server


@dataclass
class World:
    server: Synapse
    bot: MatrixBot
    bot_user: User
    anna: User  # created the team room: power level 100, an admin without APBOT_ADMIN_IDS
    bert: User  # a member of the team room
    stranger: User
    team: str
    calendar_port: int


def create_room(server: Synapse, owner: User, invite: list[str], name: str) -> str:
    answer = server.request("POST", "/_matrix/client/v3/createRoom",
                            {"name": name, "invite": invite, "preset": "private_chat"},
                            token=owner.access_token)
    return str(answer["room_id"])


def join(server: Synapse, user: User, room_id: str) -> None:
    server.request("POST", f"/_matrix/client/v3/join/{room_id}", {}, token=user.access_token)


def membership(server: Synapse, user: User, room_id: str, of: str) -> str:
    answer = server.request("GET", f"/_matrix/client/v3/rooms/{room_id}/state/m.room.member/"
                            f"{of}", token=user.access_token)
    return str(answer.get("membership"))


def joined(server: Synapse, user: User, room_id: str) -> list[str]:
    answer = server.request("GET", f"/_matrix/client/v3/rooms/{room_id}/joined_members",
                            token=user.access_token)
    return sorted(answer["joined"])


@pytest.fixture(scope="module")
def world(synapse: Synapse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tag = secrets.token_hex(2)
    bot_user = synapse.register(f"apbot{tag}")
    anna, bert = synapse.register(f"anna{tag}"), synapse.register(f"bert{tag}")
    stranger = synapse.register(f"stranger{tag}")
    team = create_room(synapse, anna, [bert.user_id, bot_user.user_id], "Koordinierungsteam")
    join(synapse, bert, team)
    directory = tmp_path_factory.mktemp("matrix-bot")
    calendar_port = free_port()
    bot = MatrixBot(synapse, bot_user, directory / "data", directory / "bot.log",
                    APBOT_TEAM_CHAT_ID=team, APBOT_ADMIN_IDS="",
                    APBOT_CALENDAR_PORT=str(calendar_port))
    bot.start()
    try:
        end = time.monotonic() + 20
        while bot_user.user_id not in joined(synapse, anna, team):  # joined on the invite
            assert time.monotonic() < end, bot.log()
            time.sleep(0.1)
        yield World(synapse, bot, bot_user, anna, bert, stranger, team, calendar_port)
    finally:
        bot.stop()


async def test_status_as_slash_and_bang_command(world: World) -> None:
    async with Member(world.server, world.anna) as anna:
        asked = await anna.say(world.team, "/status AP3")
        answer = await anna.answer(world.team, to=asked)
        assert "AP 3" in body(answer) and "Bildungskonferenzen" in body(answer)
        assert "<b>" in html(answer) and "<" not in body(answer)
        assert answer["content"]["format"] == "org.matrix.custom.html"

        asked = await anna.say(world.team, "!status AP3")
        again = await anna.answer(world.team, to=asked)
        assert body(again) == body(answer)


def confirms(event: dict[str, object]) -> bool:
    return "gespeichert" in body(event) or "geändert" in body(event)


async def test_report_its_edit_and_undo_by_reaction(world: World) -> None:
    async with Member(world.server, world.bert) as bert:
        said = await bert.say(world.team, "AP3: Einladungen verschickt, 60 %")
        confirmation = await bert.answer(world.team, to=said)
        assert "✅ gespeichert" in body(confirmation) and "60 %" in body(confirmation)
        # The undo button is a reaction: the bot puts it under its message itself.
        own = await bert.wait(lambda e: e.get("type") == "m.reaction"
                              and e["content"]["m.relates_to"]["event_id"]
                              == confirmation["event_id"])
        assert own["content"]["m.relates_to"]["key"] == "↩️"
        assert "↩️ Rückgängig" in body(confirmation)

        await bert.edit(world.team, said, "AP3: Einladungen verschickt, 80 %")
        changed = await bert.answer(world.team)
        assert "✏️ geändert" in body(changed) and "80 %" in body(changed)
        asked = await bert.say(world.team, "!status AP3")
        status = body(await bert.answer(world.team, to=asked))
        assert "80 %" in status and "60 %" not in status

        await bert.react(world.team, changed["event_id"], "↩️")
        edit = await bert.wait(lambda e: (e.get("content") or {}).get("m.relates_to", {})
                               .get("rel_type") == "m.replace"
                               and e["content"]["m.relates_to"]["event_id"]
                               == changed["event_id"])
        assert "zurückgenommen" in edit["content"]["m.new_content"]["body"].lower()
        asked = await bert.say(world.team, "/status AP3")
        assert "Einladungen verschickt" not in body(await bert.answer(world.team, to=asked))


async def test_questions_plain_and_by_mention(world: World) -> None:
    async with Member(world.server, world.bert) as bert:
        asked = await bert.say(world.team, "Wann ist die nächste BiKo?")
        answer = body(await bert.answer(world.team, to=asked))
        assert "BiKo" in answer or "Bildungskonferenz" in answer
        # A mention as Element writes it: the display name, a pill, m.mentions.
        bot_id = world.bot_user.user_id
        asked = await bert.say(
            world.team, f"{bot_id}: Status AP 11",
            format="org.matrix.custom.html",
            formatted_body=f'<a href="https://matrix.to/#/{bot_id}">{bot_id}</a>: Status AP 11',
            **{"m.mentions": {"user_ids": [bot_id]}})
        answer = body(await bert.answer(world.team, to=asked))
        assert "AP 11" in answer
        asked = await bert.say(world.team, "Wer bringt morgen Kuchen mit?")
        assert await bert.quiet(world.team, 2.0) == []  # colleagues' talk: no answer


async def test_files_are_uploaded_to_the_media_repository(world: World) -> None:
    async with Member(world.server, world.anna) as anna:
        asked = await anna.say(world.team, "/zeitplan")
        chart = await anna.answer(world.team, to=asked, timeout=40)
        assert chart["content"]["msgtype"] == "m.image"
        assert chart["content"]["info"]["mimetype"] == "image/png"
        assert chart["content"]["info"]["w"] > 0
        data = await anna.client.download(mxc=chart["content"]["url"])
        assert data.body[:8] == b"\x89PNG\r\n\x1a\n"

        asked = await anna.say(world.team, "!kalender")
        calendar = await anna.answer(world.team, to=asked)
        assert calendar["content"]["msgtype"] == "m.file"
        assert calendar["content"]["filename"].endswith(".ics")
        data = await anna.client.download(mxc=calendar["content"]["url"])
        assert b"BEGIN:VCALENDAR" in data.body


async def test_admins_by_power_level(world: World) -> None:
    """Without APBOT_ADMIN_IDS the team room's moderators (power ≥ 50) are the admins."""
    async with Member(world.server, world.anna) as anna, \
            Member(world.server, world.bert) as bert:
        asked = await bert.say(world.team, "/vorschau")
        assert "nur für Admins" in body(await bert.answer(world.team, to=asked))
        asked = await anna.say(world.team, "/vorschau")
        assert "Geplante Beiträge" in body(await anna.answer(world.team, to=asked))


async def test_a_moderator_made_at_run_time_is_an_admin(world: World) -> None:
    """Power levels are followed as they change: bert made moderator (50) may use /vorschau."""
    async with Member(world.server, world.anna) as anna, \
            Member(world.server, world.bert) as bert:
        path = f"/_matrix/client/v3/rooms/{world.team}/state/m.room.power_levels/"
        levels = world.server.request("GET", path, token=world.anna.access_token)
        users = {**levels.get("users", {}), world.bert.user_id: 50}
        world.server.request("PUT", path, {**levels, "users": users},
                             token=world.anna.access_token)
        asked = await bert.say(world.team, "/vorschau")
        assert "Geplante Beiträge" in body(await bert.answer(world.team, to=asked))
        world.server.request("PUT", path, levels, token=world.anna.access_token)
        asked = await bert.say(world.team, "/vorschau")
        assert "nur für Admins" in body(await bert.answer(world.team, to=asked))
        asked = await anna.say(world.team, "/vorschau")  # the room's creator still is one
        assert "Geplante Beiträge" in body(await anna.answer(world.team, to=asked))


async def test_a_strangers_room_is_refused(world: World) -> None:
    async with Member(world.server, world.stranger) as stranger:
        room = await stranger.create_room("Fremder Raum", [world.bot_user.user_id])
        bot_id = world.bot_user.user_id
        await until(lambda: membership(world.server, world.stranger, room, bot_id) == "leave")
        assert f"invited to {room} by {world.stranger.user_id}: not a room apbot serves, " \
            "declined" in world.bot.log()
        # A direct chat from someone outside the team is declined the same way.
        direct = await stranger.create_room("", [bot_id], direct=True)
        await until(lambda: membership(world.server, world.stranger, direct, bot_id) == "leave")


async def test_restart_neither_replays_nor_loses(world: World) -> None:
    async with Member(world.server, world.bert) as bert:
        asked = await bert.say(world.team, "/status AP5")
        await bert.answer(world.team, to=asked)
        world.bot.stop()
        written_meanwhile = await bert.say(world.team, "AP5: Steuerungsrunde vorbereitet")
        world.bot.start()
        confirmation = await bert.answer(world.team, to=written_meanwhile)
        assert "✅ gespeichert" in body(confirmation)
        asked = await bert.say(world.team, "/status AP5")
        await bert.answer(world.team, to=asked)
        # Nothing answered twice: neither the earlier question nor the message written
        # while the bot was down.
        later = await bert.quiet(world.team, 2.0)
        assert later == [], [body(e) for e in later]
    log = world.bot.log()
    assert world.bot_user.access_token not in log



async def test_a_long_outage_is_fetched_in_full(world: World) -> None:
    """More messages while stopped than one sync carries (a limited timeline): the
    earlier ones are fetched with /messages, so the first is still recorded."""
    async with Member(world.server, world.bert) as bert:
        world.bot.stop()
        first = await bert.say(world.team, "AP7: Workshop BNE geplant")
        for n in range(TIMELINE_LIMIT + 10):
            await bert.say(world.team, f"Danke {n}")
        last = await bert.say(world.team, "/status AP7")
        world.bot.start()
        confirmation = await bert.answer(world.team, to=first)
        assert "✅ gespeichert" in body(confirmation) and "AP 7" in body(confirmation)
        assert "Workshop BNE geplant" in body(await bert.answer(world.team, to=last))
    assert "earlier events of" in world.bot.log()

async def test_encrypted_direct_chat_gets_one_german_line(world: World) -> None:
    async with Member(world.server, world.anna) as anna:
        room = await anna.create_room("", [world.bot_user.user_id], encrypted=True,
                                      direct=True)
        # Invited as a direct chat by an admin: joined, told, left.
        try:
            line = await anna.wait(lambda e: e.get("room_id") == room
                                   and e.get("type") == "m.room.message")
        except TimeoutError:
            raise AssertionError(world.bot.log()) from None
        assert "verschlüsselten Räumen" in body(line) and "pantalaimon" in body(line)
        await until(lambda: world.bot_user.user_id not in joined(world.server, world.anna,
                                                                 room))


async def test_rate_limit_is_waited_out_as_the_homeserver_says(synapse: Synapse,
                                                               caplog: pytest.LogCaptureFixture,
                                                               ) -> None:
    """A user without the override meets Synapse's limit for messages: every message
    still arrives, in order, after the waits M_LIMIT_EXCEEDED's retry_after_ms names."""
    sender_user = synapse.register(f"eager{secrets.token_hex(2)}", limited=True)
    reader = synapse.register(f"reader{secrets.token_hex(2)}")
    room = create_room(synapse, sender_user, [reader.user_id], "Eilig")
    join(synapse, reader, room)
    client = AsyncClient(synapse.url, sender_user.user_id)
    client.access_token, client.user_id = sender_user.access_token, sender_user.user_id
    client.config = AsyncClientConfig(max_limit_exceeded=0)  # as the front-end has it
    caplog.set_level(logging.WARNING, "bot.frontends.matrix.sending")
    try:
        sender = Sender(client)
        for n in range(6):
            await sender.text(room, f"<b>Nachricht {n}</b>")
    finally:
        await client.close()
    assert "M_LIMIT_EXCEEDED, trying again in" in caplog.text
    history = synapse.request("GET", f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=50",
                              token=reader.access_token)["chunk"]
    texts = [e["content"]["body"] for e in reversed(history) if e["type"] == "m.room.message"]
    assert texts == [f"Nachricht {n}" for n in range(6)]


BERLIN = ZoneInfo("Europe/Berlin")


async def test_automatic_post_caught_up_once_after_a_stop(synapse: Synapse, tmp_path: Path,
                                                        ) -> None:
    """The team-meeting summary through the same post log: missed while stopped, posted
    once (as m.notice, marked as caught up) at the next start, never again after. This
    bot logs in with its password."""
    meeting = datetime(2026, 11, 26, 11, 0, tzinfo=BERLIN)
    summary = meeting - timedelta(minutes=1)
    plan = plan_with_meeting(tmp_path, meeting)
    tag = secrets.token_hex(2)
    bot_user, anna = synapse.register(f"postbot{tag}"), synapse.register(f"anna{tag}")
    room = create_room(synapse, anna, [bot_user.user_id], "Team (Beiträge)")
    bot = MatrixBot(synapse, bot_user, tmp_path / "data", tmp_path / "bot.log",
                    now=summary - timedelta(seconds=30), APBOT_TEAM_CHAT_ID=room,
                    APBOT_ADMIN_IDS=anna.user_id, APBOT_PLAN=str(plan),
                    APBOT_MATRIX_PASSWORD=bot_user.password)
    # From the second start on, the daily backup cannot be written (a file where its folder
    # belongs): the notice for the admins goes to the admin's direct chat with apbot.
    def backup_notice(room_id: str) -> Callable[[dict[str, Any]], bool]:
        return lambda e: e.get("room_id") == room_id and "Sicherung" in body(e)

    async with Member(synapse, anna) as member:
        bot.start()
        await until(lambda: bot_user.user_id in joined(synapse, anna, room))
        direct = await member.create_room("", [bot_user.user_id], direct=True)
        await until(lambda: bot_user.user_id in joined(synapse, anna, direct))
        backups = tmp_path / "data" / "backups"
        if backups.exists():
            backups.rename(tmp_path / "backups-away")
        backups.write_text("kein Ordner")
        bot.stop()
        bot.set_clock(summary + timedelta(seconds=20))
        bot.start()
        try:
            post = await member.wait(lambda e: e.get("room_id") == room
                                     and TITLE in body(e))
            notice = await member.wait(backup_notice(direct))
            assert notice["content"]["msgtype"] == "m.notice"
        finally:
            bot.stop()
        assert [e for e in member.seen if backup_notice(room)(e)] == []
        assert post["content"]["msgtype"] == "m.notice"
        assert "(nachgeholt)" in body(post) and "<i>(nachgeholt)</i>" in html(post)
        bot.set_clock(summary + timedelta(seconds=40))
        bot.start()
        try:
            assert [e for e in await member.quiet(room, 3.0) if TITLE in body(e)] == []
        finally:
            bot.stop()
    log = bot.log()
    assert len(re.findall(r"posted meeting:probe", log)) == 1
    assert bot_user.password not in log and "syt_" not in log
    assert "device_id" in (tmp_path / "data" / "matrix.json").read_text()


def replies_of(server: Synapse, reader: User, room_id: str, sender: str,
               event_id: str) -> list[dict[str, Any]]:
    """Every message of `sender` in the room's history that replies to `event_id`."""
    chunk = server.request("GET", f"/_matrix/client/v3/rooms/{room_id}/messages?dir=b&"
                           "limit=100", token=reader.access_token)["chunk"]
    return [e for e in chunk if e["sender"] == sender and e["type"] == "m.room.message"
            and (e["content"].get("m.relates_to") or {}).get("m.in_reply_to", {})
            .get("event_id") == event_id]


@pytest.mark.faults
async def test_kill_9_after_the_fetch_and_before_the_reply_answers_once(
        synapse: Synapse, tmp_path: Path) -> None:
    """The bot is stopped with kill -9 at two moments, each held at a proxy in front of
    the homeserver: (1) the report is fetched and stored, its confirmation on the way;
    (2) a report, sent as a reply to apbot, is fetched (the sync token after it stored)
    but not yet handled — apbot is fetching the message it replies to. After each restart
    the report is confirmed exactly once and stored once."""
    tag = secrets.token_hex(2)
    bot_user, anna = synapse.register(f"killbot{tag}"), synapse.register(f"anna{tag}")
    room = create_room(synapse, anna, [bot_user.user_id], "Team (kill -9)")
    data = tmp_path / "data"
    bot = MatrixBot(synapse, bot_user, data, tmp_path / "bot.log", APBOT_TEAM_CHAT_ID=room,
                    APBOT_ADMIN_IDS=anna.user_id)

    def reports(text: str) -> int:
        store = Store.open(data, datetime.now(BERLIN), read_only=True)
        try:
            return sum(text in u.text for u in store.updates())
        finally:
            store.close()

    def waiting(event_id: str) -> bool:  # in the inbox, not done
        inbox = (data / "matrix-inbox.jsonl").read_text()
        return event_id in inbox and f'{{"done":"{event_id}"}}' not in inbox

    with HoldingProxy(synapse.url) as proxy:
        bot.env["APBOT_MATRIX_HOMESERVER"] = proxy.url
        bot.start()
        try:
            await until(lambda: bot_user.user_id in joined(synapse, anna, room))
            async with Member(synapse, anna) as member:
                # (1) Right before the reply: every send waits at the proxy.
                proxy.hold_while(lambda method, path: method == "PUT" and "/send/" in path)
                first = await member.say(room, "AP3: Einladungen verschickt, 60 %")
                await until(lambda: proxy.held)
                assert waiting(first)
                await until(lambda: reports("Einladungen verschickt") == 1)
                bot.kill()
                proxy.release()
                bot.start()
                confirmation = await member.answer(room, to=first)
                assert "✅ gespeichert" in body(confirmation)

                # (2) Right after the fetch: the message it replies to is being fetched.
                proxy.hold_while(lambda method, path: method == "GET" and "/event/" in path)
                second = await member.say(room, "AP4: Portal-Entwurf abgestimmt", **{
                    "m.relates_to": {"m.in_reply_to": {"event_id": confirmation["event_id"]}}})
                await until(lambda: proxy.held)
                assert waiting(second) and reports("Portal-Entwurf") == 0
                bot.kill()
                proxy.release()
                bot.start()
                assert "✅ gespeichert" in body(await member.answer(room, to=second))

                asked = await member.say(room, "!status AP4")  # a sync after the restart
                assert "Portal-Entwurf" in body(await member.answer(room, to=asked))
        finally:
            bot.stop()
    for said in (first, second):
        assert len(replies_of(synapse, anna, room, bot_user.user_id, said)) == 1
    assert reports("Einladungen verschickt") == 1 and reports("Portal-Entwurf") == 1


async def test_plan_workbook_out_and_back(world: World) -> None:
    """/plan_excel arrives as a file; sent back unchanged, it is read and changes nothing."""
    async with Member(world.server, world.anna) as anna:
        asked = await anna.say(world.team, "!plan_excel")
        sent = await anna.answer(world.team, to=asked)
        assert sent["content"]["msgtype"] == "m.file"
        assert sent["content"]["filename"].endswith(".xlsx")
        data = await anna.client.download(mxc=sent["content"]["url"])
        back = await anna.upload(world.team, "plan.xlsx", data.body, sent["content"]["info"]
                                 ["mimetype"])
        answer = body(await anna.answer(world.team, to=back))
        assert answer == NO_CHANGES


async def test_a_team_member_may_ask_in_a_direct_chat(world: World) -> None:
    async with Member(world.server, world.bert) as bert:
        direct = await bert.create_room("", [world.bot_user.user_id], direct=True)
        await until(lambda: world.bot_user.user_id in joined(world.server, world.bert, direct))
        await bert.say(direct, "Wie steht AP 3?")  # no prefix needed here
        answer = body(await bert.answer(direct))
        assert "AP 3" in answer and "Bildungskonferenzen" in answer, answer


def check_output(env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    code = run_checks(Probe(env, datetime.now(BERLIN)), out, checks=[check_matrix])
    return code, out.getvalue()


def test_check_names_homeserver_login_and_team_room(world: World) -> None:
    env = {"APBOT_MATRIX_HOMESERVER": world.server.url,
           "APBOT_MATRIX_USER": world.bot_user.user_id,
           "APBOT_MATRIX_ACCESS_TOKEN": world.bot_user.access_token,
           "APBOT_TEAM_CHAT_ID": world.team}
    code, text = check_output(env)
    assert code == 0, text
    assert "✅ Matrix-Server antwortet" in text
    assert f"✅ Anmeldung bei Matrix klappt: {world.bot_user.user_id}" in text
    assert "✅ apbot ist im Team-Raum „Koordinierungsteam“" in text

    code, text = check_output({**env, "APBOT_MATRIX_ACCESS_TOKEN": "syt_falsch_falsch_x"})
    assert code == 1 and "❌ Der Matrix-Server lehnt das Zugangstoken" in text, text
    assert "syt_falsch" not in text

    password = {**env, "APBOT_MATRIX_ACCESS_TOKEN": "",
                "APBOT_MATRIX_PASSWORD": world.stranger.password,
                "APBOT_MATRIX_USER": world.stranger.user_id}
    code, text = check_output(password)  # logged in, but not in the team room
    assert code == 1, text
    assert "(mit Passwort)" in text and "❌ apbot ist nicht im Team-Raum" in text
    assert world.stranger.password not in text
    devices = world.server.request("GET", "/_matrix/client/v3/devices",
                                   token=world.stranger.access_token)["devices"]
    assert all(d.get("display_name") != "apbot check" for d in devices)  # logged out again

    code, text = check_output({**env, "APBOT_MATRIX_HOMESERVER": "http://127.0.0.1:9"})
    assert code == 1 and "❌ Der Matrix-Server http://127.0.0.1:9 antwortet nicht" in text


async def test_calendar_subscription_for_an_admin_in_a_direct_chat(world: World) -> None:
    async with Member(world.server, world.anna) as anna:
        direct = await anna.create_room("", [world.bot_user.user_id], direct=True)
        await until(lambda: world.bot_user.user_id in joined(world.server, world.anna, direct))
        await anna.say(direct, "!kalender abo")
        text = body(await anna.answer(direct))
        found = re.search(rf"http://127\.0\.0\.1:{world.calendar_port}/\S+\.ics", text)
        assert found, text
        with urllib.request.urlopen(found.group(0), timeout=10) as response:
            assert b"BEGIN:VCALENDAR" in response.read()


def edit_of(event_id: str) -> Callable[[dict[str, Any]], bool]:
    def fits(e: dict[str, Any]) -> bool:
        relates = (e.get("content") or {}).get("m.relates_to") or {}
        return relates.get("rel_type") == "m.replace" and relates.get("event_id") == event_id
    return fits


async def test_a_reply_naming_the_button_presses_it(world: World) -> None:
    """For clients without reactions: a reply "Rückgängig" to the confirmation."""
    async with Member(world.server, world.bert) as bert:
        said = await bert.say(world.team, "AP9: Netzwerktreffen vorbereitet")
        confirmation = await bert.answer(world.team, to=said)
        await bert.say(world.team, "Rückgängig", **{"m.relates_to": {
            "m.in_reply_to": {"event_id": confirmation["event_id"]}}})
        edit = await bert.wait(edit_of(confirmation["event_id"]))
        assert "zurückgenommen" in edit["content"]["m.new_content"]["body"].lower()


async def test_plan_change_taken_by_reaction(world: World) -> None:
    """Two buttons (✅ Übernehmen, ❌ Verwerfen) as two reactions; ✅ changes the plan."""
    async with Member(world.server, world.anna) as anna:
        asked = await anna.say(world.team, "/faellig M3.3 15.12.2026")
        preview = await anna.answer(world.team, to=asked)
        assert "✅ Übernehmen · ❌ Verwerfen" in body(preview)
        await anna.react(world.team, preview["event_id"], "✅")
        edit = await anna.wait(edit_of(preview["event_id"]))
        assert "Übernommen" in edit["content"]["m.new_content"]["body"]
        asked = await anna.say(world.team, "/status AP3")
        assert "15.12.2026" in body(await anna.answer(world.team, to=asked))


async def test_an_upgraded_team_room_is_followed(world: World) -> None:
    """The team upgrades its room (m.room.tombstone, as Element's "Upgrade room" does,
    inviting the members to the new one): apbot records the move, joins the new room,
    answers and records reports there. Last in the module: the team talks in the new
    room from here on."""
    old = world.team
    # To the version Synapse creates rooms with (12): the upgrading user is the new room's
    # creator, and so an admin there too.
    new = world.server.request("POST", f"/_matrix/client/v3/rooms/{old}/upgrade",
                               {"new_version": "12"},
                               token=world.anna.access_token)["replacement_room"]
    for user in (world.bot_user, world.bert):
        world.server.request("POST", f"/_matrix/client/v3/rooms/{new}/invite",
                             {"user_id": user.user_id}, token=world.anna.access_token)
    join(world.server, world.bert, new)
    world.team = new
    await until(lambda: world.bot_user.user_id in joined(world.server, world.anna, new))
    assert world.bot.log().count(f"room {old} was upgraded: apbot continues in {new}") == 1
    async with Member(world.server, world.bert) as bert:
        asked = await bert.say(new, "/status AP3")
        assert "Bildungskonferenzen" in body(await bert.answer(new, to=asked))
        said = await bert.say(new, "AP4: Portal-Entwurf abgestimmt")
        assert "✅ gespeichert" in body(await bert.answer(new, to=said))
        asked = await bert.say(new, "!status AP4")
        assert "Portal-Entwurf abgestimmt" in body(await bert.answer(new, to=asked))
    async with Member(world.server, world.anna) as anna:  # admins: those of the new room
        asked = await anna.say(new, "/vorschau")
        assert "Geplante Beiträge" in body(await anna.answer(new, to=asked))
    # The check names the new room for the setting.
    code, text = check_output({"APBOT_MATRIX_HOMESERVER": world.server.url,
                               "APBOT_MATRIX_USER": world.bot_user.user_id,
                               "APBOT_MATRIX_ACCESS_TOKEN": world.bot_user.access_token,
                               "APBOT_TEAM_CHAT_ID": old})
    assert code == 0, text
    assert (f"⚠️ Der Team-Raum wurde durch einen neuen Raum ersetzt (Raum-Upgrade): {new}; "
            f"apbot ist schon dort und postet dort. Was tun: APBOT_TEAM_CHAT_ID={new} "
            "eintragen.") in text, text
    data = Path(world.bot.env["APBOT_DATA_DIR"])
    store = Store.open(data, datetime.now(BERLIN), read_only=True)
    try:
        assert store.chat_migrations() == {old: new}  # where the posts now go
        assert [u.chat_id for u in store.updates() if "Portal-Entwurf" in u.text] == [new]
    finally:
        store.close()
