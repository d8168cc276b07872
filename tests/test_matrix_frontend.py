"""The Matrix front-end without a homeserver: rooms as nio parses them from sync answers,
a fake sender in place of the HTTP sends, the real core and store.

What the homeserver would do is what nio reads from the sync JSON (`SyncResponse.from_dict`
and the client's own `receive_response`, as its `sync` does); joins are recorded.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nio import ErrorResponse, JoinResponse, RoomLeaveResponse, SyncResponse, WhoamiResponse

from bot.access import served_chats, team_chat
from bot.commands import COMMANDS
from bot.core import Core
from bot.frontends.inbox import Event, Inbox
from bot.frontends.matrix.client import MatrixFrontend
from bot.messages import Context, Reply
from bot.settings import Settings
from workflows.plan import Plan
from workflows.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
ME = "@apbot:stadt.de"
ANNA, BERT = "@anna:stadt.de", "@bert:stadt.de"
TEAM, NEW_TEAM = "!team:stadt.de", "!neu:stadt.de"
DIRECT = "!direkt:stadt.de"  # anna's direct chat with apbot
OTHER = "!anderer:stadt.de"  # a room apbot is in but does not serve


@dataclass
class FakeSender:
    """What the front-end sends, instead of sending it."""

    texts: list[tuple[str, str, str]] = field(default_factory=list)  # room, html, msgtype
    replies: list[tuple[str, Reply]] = field(default_factory=list)

    async def text(self, room_id: str, text: str, msgtype: str = "m.text",
                   reply_to: str | None = None, **_: Any) -> None:
        self.texts.append((room_id, text, msgtype))

    async def reply(self, room_id: str, reply: Reply, reply_to: str | None = None) -> None:
        self.replies.append((room_id, reply))

    def notices(self) -> list[tuple[str, str]]:
        return [(room, text) for room, text, kind in self.texts if kind == "m.notice"]


@dataclass
class Front:
    front: MatrixFrontend
    sender: FakeSender
    joins: list[str]
    leaves: list[str]
    store: Store
    data: Path


def event(kind: str, sender: str, content: dict[str, Any], state_key: str | None = None,
          n: int = 1) -> dict[str, Any]:
    source = {"type": kind, "sender": sender, "content": content, "event_id": f"${kind}{n}",
              "origin_server_ts": 1_790_000_000_000 + n, "unsigned": {"age": 100}}
    return source if state_key is None else {**source, "state_key": state_key}


def member(user_id: str, membership: str = "join", **content: Any) -> dict[str, Any]:
    return event("m.room.member", user_id, {"membership": membership, **content},
                 state_key=user_id)


def joined_room(*users: str, state: Sequence[dict[str, Any]] = (),
                timeline: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"state": {"events": [member(u) for u in users] + list(state)},
            "timeline": {"events": list(timeline), "limited": False},
            "summary": {"m.joined_member_count": len(users)}}


def sync(join: dict[str, Any] | None = None, invite: dict[str, Any] | None = None,
         batch: str = "s1") -> SyncResponse:
    answer = SyncResponse.from_dict({"next_batch": batch,
                                     "rooms": {"join": join or {}, "invite": invite or {},
                                               "leave": {}}})
    assert isinstance(answer, SyncResponse), answer
    return answer


def invited_by(inviter: str, direct: bool = False) -> dict[str, Any]:
    invite = {"type": "m.room.member", "sender": inviter, "state_key": ME,
              "content": {"membership": "invite", **({"is_direct": True} if direct else {})}}
    return {"invite_state": {"events": [invite]}}


def tombstone(replacement: str) -> dict[str, Any]:
    return event("m.room.tombstone", ANNA, {"body": "Dieser Raum wurde ersetzt.",
                                            "replacement_room": replacement}, state_key="")


@pytest.fixture
def make(tmp_path: Path, plan: Plan, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A front-end over a store in tmp_path; `admins` as APBOT_ADMIN_IDS; joins of rooms
    in `closed` are refused (invite-only rooms without an invitation); with
    `broken_backups` the day's backup fails."""
    made: list[Front] = []

    def build(admins: frozenset[str] = frozenset(), closed: frozenset[str] = frozenset(),
              broken_backups: bool = False) -> Front:
        data = tmp_path / "data"
        if broken_backups:
            break_backups(data)
        settings = Settings(team_chat_id=TEAM, admin_ids=admins, data_dir=data,
                            matrix_homeserver="http://127.0.0.1:9", matrix_user=ME,
                            matrix_access_token="syt_test")
        store = Store.open(data, NOW)
        inbox = Inbox(data / "matrix-inbox.jsonl")
        front = MatrixFrontend(Core(Context(settings, plan, store), COMMANDS), lambda: NOW,
                               inbox, asyncio.Event())
        sender = FakeSender()
        front.sender = sender  # type: ignore[assignment]
        joins: list[str] = []

        async def join(room_id: str) -> JoinResponse | ErrorResponse:
            joins.append(room_id)
            if room_id in closed:
                return ErrorResponse("You are not invited to this room.", "M_FORBIDDEN")
            return JoinResponse(room_id)
        leaves: list[str] = []

        async def room_leave(room_id: str) -> RoomLeaveResponse:
            leaves.append(room_id)
            return RoomLeaveResponse()
        monkeypatch.setattr(front.client, "join", join)
        monkeypatch.setattr(front.client, "room_leave", room_leave)
        made.append(Front(front, sender, joins, leaves, store, data))
        return made[-1]
    yield build
    for f in made:
        f.front.inbox.close()
        f.store.close()


async def receive(front: MatrixFrontend, answer: SyncResponse) -> None:
    """What nio's sync does with an answer before the front-end sees it."""
    await front.client.receive_response(answer)


# -- room upgrades ----------------------------------------------------------------------


async def test_an_upgraded_team_room_continues_in_its_replacement(
        make: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The tombstone and the invitation to the new room in one sync (apbot down during the
    upgrade, or both quick): the move is recorded first, so the invitation is accepted."""
    f = make()
    caplog.set_level(logging.INFO, "bot.frontends.matrix.client")
    answer = sync(join={TEAM: joined_room(ME, ANNA, BERT, timeline=[tombstone(NEW_TEAM)])},
                  invite={NEW_TEAM: invited_by(ANNA)})
    await receive(f.front, answer)
    await f.front._invites(answer)
    assert f.store.chat_migrations() == {TEAM: NEW_TEAM}
    assert team_chat(f.front.core.ctx) == NEW_TEAM  # where posts go from now on
    assert NEW_TEAM in served_chats(f.front.core.ctx)
    assert f.joins == [NEW_TEAM]  # once: with the invitation
    assert caplog.text.count(f"room {TEAM} was upgraded: apbot continues in {NEW_TEAM}") == 1

    # At the next start the first sync shows the old room's state with the tombstone
    # again: nothing recorded twice, the room already joined is not joined again.
    again = sync(join={TEAM: joined_room(ME, ANNA, state=[tombstone(NEW_TEAM)]),
                       NEW_TEAM: joined_room(ME, ANNA)}, batch="s2")
    await receive(f.front, again)
    await f.front._invites(again)
    assert f.joins == [NEW_TEAM]
    assert caplog.text.count("was upgraded") == 1


async def test_a_tombstone_seen_before_a_restart_is_followed_after_it(make: Any) -> None:
    """The new room admits only invited members and the invitation comes later, after a
    restart: the move was recorded at the tombstone, so that invitation is accepted."""
    f = make(closed=frozenset({NEW_TEAM}))
    answer = sync(join={TEAM: joined_room(ME, ANNA, timeline=[tombstone(NEW_TEAM)])})
    await receive(f.front, answer)
    await f.front._invites(answer)
    assert f.joins == [NEW_TEAM] and f.store.chat_migrations() == {TEAM: NEW_TEAM}
    f.front.inbox.close()
    f.store.close()

    restarted = make()  # the same data directory
    first = sync(join={TEAM: joined_room(ME, ANNA)}, invite={NEW_TEAM: invited_by(ANNA)})
    await receive(restarted.front, first)
    await restarted.front._invites(first)
    assert restarted.joins == [NEW_TEAM]
    assert team_chat(restarted.front.core.ctx) == NEW_TEAM


async def test_a_tombstone_in_a_room_apbot_does_not_serve_is_ignored(make: Any) -> None:
    f = make()
    answer = sync(join={OTHER: joined_room(ME, ANNA, timeline=[tombstone(NEW_TEAM)])},
                  invite={NEW_TEAM: invited_by(ANNA)})
    await receive(f.front, answer)
    await f.front._invites(answer)
    assert f.store.chat_migrations() == {}
    assert f.joins == [] and f.leaves == [NEW_TEAM]  # its successor's invitation declined


# -- notices for the admins -------------------------------------------------------------


def report(n: int = 1) -> Event:
    source = event("m.room.message", BERT, {"msgtype": "m.text",
                                           "body": f"AP3: Einladungen Runde {n} verschickt"},
                   n=n)
    return Event(source["event_id"], {"room_id": TEAM, "event": source,
                                      "received": NOW.isoformat()})


def break_backups(data: Path) -> None:
    """A database from before, whose daily backup cannot be written: a file where the
    backups' folder belongs."""
    Store.open(data, NOW).close()
    (data / "backups").write_text("kein Ordner")


async def backup_notice_goes_to(f: Front) -> list[str]:
    """The rooms the notice of the failed backup reaches, when a report is handled."""
    await f.front.handle(report())
    assert [room for room, reply in f.sender.replies
            if "gespeichert" in reply.text] == [TEAM]  # the report itself is answered
    notices = f.sender.notices()
    assert all("Sicherung" in text for _, text in notices), notices
    return [room for room, _ in notices]


async def test_without_admins_a_store_notice_goes_to_the_team_room(make: Any) -> None:
    f = make(broken_backups=True)
    await receive(f.front, sync(join={TEAM: joined_room(ME, ANNA, BERT),
                                      DIRECT: joined_room(ME, ANNA)}))
    assert await backup_notice_goes_to(f) == [TEAM]
    await f.front.handle(report(2))  # told once, not at every write
    assert len(f.sender.notices()) == 1


async def test_a_store_notice_goes_to_each_admins_direct_chat(make: Any) -> None:
    """Admins by APBOT_ADMIN_IDS: anna's direct chat gets it, the team room not; bert's
    talk with apbot in a room of three is no direct chat."""
    f = make(admins=frozenset({ANNA, BERT}), broken_backups=True)
    await receive(f.front, sync(join={TEAM: joined_room(ME, ANNA, BERT),
                                      DIRECT: joined_room(ME, ANNA),
                                      OTHER: joined_room(ME, BERT, "@carla:stadt.de")}))
    assert await backup_notice_goes_to(f) == [DIRECT]


async def test_admins_by_power_level_get_notices_in_their_direct_chats(make: Any) -> None:
    """Without APBOT_ADMIN_IDS the team room's moderators are the admins: a notice goes
    to a moderator's direct chat, and to the team room while none has one."""
    levels = event("m.room.power_levels", ANNA, {"users": {ANNA: 100, BERT: 0}},
                   state_key="")
    rooms = {TEAM: joined_room(ME, ANNA, BERT, state=[levels]),
             DIRECT: joined_room(ME, ANNA), OTHER: joined_room(ME, BERT)}
    f = make(broken_backups=True)
    answer = sync(join=rooms)
    await receive(f.front, answer)
    f.front._note_creators(TEAM, [levels])
    f.front._update_admins()
    assert f.front.core.ctx.settings.admin_ids == {ANNA}
    assert await backup_notice_goes_to(f) == [DIRECT]  # not bert's: he is no moderator


async def test_admins_without_a_direct_chat_are_told_in_the_team_room(make: Any) -> None:
    f = make(admins=frozenset({ANNA}), broken_backups=True)
    await receive(f.front, sync(join={TEAM: joined_room(ME, ANNA, BERT),
                                      OTHER: joined_room(ME, BERT)}))
    assert await backup_notice_goes_to(f) == [TEAM]


# -- an outgoing proxy ----------------------------------------------------------------


async def test_the_homeserver_is_reached_through_the_proxy_the_environment_names(
        make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0].decode())
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")  # the tunnel
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0].decode())
        body = json.dumps({"user_id": ME}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    front = make().front
    try:
        response = await asyncio.wait_for(front.client.whoami(), 10)
    finally:
        await front.client.close()
        server.close()
    assert isinstance(response, WhoamiResponse) and response.user_id == ME
    # The homeserver (http://127.0.0.1:9, where nothing listens) only through the proxy:
    assert seen[0] == "CONNECT 127.0.0.1:9 HTTP/1.1"
    assert seen[1].startswith("GET /_matrix/client/") and "whoami" in seen[1]
