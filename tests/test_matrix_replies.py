"""Replies in a Matrix room reach the core as on Telegram: whom and what they answer.

Without a homeserver, on the harness of tests/test_matrix_frontend.py: rooms as nio
parses them, a fake sender, the real core and store; the replied-to event is what the
homeserver would return for it.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.frontends.inbox import Event
from tests.test_matrix_frontend import (
    ANNA,
    BERT,
    NOW,
    TEAM,
    event,
    joined_room,
    make,
    receive,
    sync,
)
from tests.test_matrix_frontend import ME as BOT

__all__ = ["make"]  # the fixture, used here under its own name


def message(sender: str, body: str, n: int, **content: Any) -> dict[str, Any]:
    return event("m.room.message", sender, {"msgtype": "m.text", "body": body, **content}, n=n)


def arriving(source: dict[str, Any]) -> Event:
    return Event(source["event_id"], {"room_id": TEAM, "event": source,
                                      "received": NOW.isoformat()})


async def test_a_reply_names_the_person_and_message_it_answers(
        make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    f = make(admins=frozenset({BERT}))
    await receive(f.front, sync(join={TEAM: joined_room(BOT, ANNA, BERT)}))
    annas = message(ANNA, "Ich kümmere mich ab Januar ums Bildungsportal.", 1)

    async def fetched(room_id: str, event_id: str) -> dict[str, Any] | None:
        return annas if (room_id, event_id) == (TEAM, annas["event_id"]) else None
    monkeypatch.setattr(f.front, "_event", fetched)
    seen = []
    handle = f.front.core.handle
    monkeypatch.setattr(f.front.core, "handle", lambda msg, now: seen.append(msg) or
                        handle(msg, now))

    reply = message(BERT, f"> <{ANNA}> Ich kümmere mich …\n\n/zustaendig AP4", 2,
                    **{"m.relates_to": {"m.in_reply_to": {"event_id": annas["event_id"]}}})
    await f.front.handle(arriving(reply))
    [incoming] = seen
    assert (incoming.reply_to_message_id, incoming.reply_to_user_id) == (annas["event_id"], ANNA)
    assert incoming.reply_to_text == annas["content"]["body"]
    assert incoming.user_handle == "bert" and incoming.text == "/zustaendig AP4"
    # So /zustaendig as a reply links the lead to that member, as on Telegram.
    [(room, preview)] = f.sender.replies
    assert room == TEAM
    assert f"AP 4 zuständig: {ANNA} (im Chat verknüpft)" in preview.text, preview.text
    assert [b.label for b in preview.buttons] == ["Übernehmen", "Verwerfen"]


async def test_a_mention_is_taken_out_and_a_colleagues_mention_is_theirs(
        make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    f = make()
    await receive(f.front, sync(join={TEAM: joined_room(BOT, ANNA, BERT)}))
    mention = {"m.mentions": {"user_ids": [BOT]}}
    await f.front.handle(arriving(message(ANNA, "apbot: Status AP 11", 1, **mention)))
    [(_, answer)] = f.sender.replies
    assert answer.text.startswith("<b>AP 11 · "), answer.text
    # The same question put to a colleague is theirs: no answer from apbot.
    other = {"m.mentions": {"user_ids": [BERT]}}
    await f.front.handle(arriving(message(ANNA, "Bert: wann ist die nächste BiKo?", 2, **other)))
    assert len(f.sender.replies) == 1
