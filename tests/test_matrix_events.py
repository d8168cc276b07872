"""Reading Matrix events and writing Matrix messages, without a homeserver."""

from __future__ import annotations

import json
from typing import Any

from bot.frontends.matrix.events import (
    as_command,
    button_data,
    read_message,
    read_reaction,
    read_tombstone,
)
from bot.frontends.matrix.sending import (
    BUTTONS_KEY,
    MAX_EVENT_BYTES,
    edit_content,
    split_text,
    text_content,
    to_html,
    to_plain,
)
from bot.messages import Button

ME = "@apbot:stadt.de"


def message(content: dict[str, Any], sender: str = "@anna:stadt.de",
            event_id: str = "$e1") -> dict[str, Any]:
    return {"type": "m.room.message", "sender": sender, "event_id": event_id,
            "content": content, "unsigned": {"age": 1500}}


def test_bang_and_slash_commands_are_the_same() -> None:
    assert as_command("!status AP3") == "/status AP3"
    assert as_command("  !hilfe") == "/hilfe"
    assert as_command("! nicht gemeint") == "! nicht gemeint"
    assert as_command("Toll!") == "Toll!"
    read = read_message(message({"msgtype": "m.text", "body": "!status AP3"}), ME)
    assert read is not None and read.text == "/status AP3" and read.age_ms == 1500


def test_an_edit_names_the_original_and_carries_the_new_text() -> None:
    read = read_message(message({
        "msgtype": "m.text", "body": "* AP3: 80 %",
        "m.new_content": {"msgtype": "m.text", "body": "AP3: 80 %"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$original"}},
        event_id="$edit"), ME)
    assert read is not None
    assert (read.text, read.edited, read.message_id, read.event_id) == \
        ("AP3: 80 %", True, "$original", "$edit")


def test_own_messages_notices_and_other_events_are_not_read() -> None:
    assert read_message(message({"msgtype": "m.text", "body": "x"}, sender=ME), ME) is None
    assert read_message(message({"msgtype": "m.notice", "body": "Bot B"}), ME) is None
    assert read_message({"type": "m.room.member", "sender": "@a:b", "content": {}}, ME) is None
    assert read_message(message({"msgtype": "m.text"}), ME) is None  # no body
    assert read_message(message({"body": "x", "msgtype": "m.text",
                                 "m.relates_to": {"rel_type": "m.replace",
                                                  "event_id": "$x"}}), ME) is None


def test_a_reply_drops_the_quoted_fallback_and_names_the_replied_event() -> None:
    read = read_message(message({
        "msgtype": "m.text", "body": "> <@apbot:stadt.de> ✅ gespeichert\n\nDanke!",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$bot"}}}), ME)
    assert read is not None and read.text == "Danke!" and read.reply_to == "$bot"


def test_a_mention_pill_at_the_start_is_taken_out_and_marks_the_message() -> None:
    read = read_message(message({
        "msgtype": "m.text", "body": "apbot: Status AP 11",
        "format": "org.matrix.custom.html",
        "formatted_body": f'<a href="https://matrix.to/#/{ME}">apbot</a>: Status AP 11',
        "m.mentions": {"user_ids": [ME]}}), ME, ("apbot",))
    assert read is not None and read.mentions_me and read.text == "Status AP 11"
    assert not read.mentions_other
    other = read_message(message({"msgtype": "m.text", "body": "Anna: kommst du?",
                                  "m.mentions": {"user_ids": ["@anna:stadt.de"]}}), ME)
    assert other is not None and not other.mentions_me and other.mentions_other
    by_id = read_message(message({"msgtype": "m.text",
                                  "body": f"Wann ist die BiKo, {ME}?"}), ME)
    assert by_id is not None and by_id.mentions_me and by_id.text == "Wann ist die BiKo?"


def test_files_give_name_address_and_caption() -> None:
    read = read_message(message({"msgtype": "m.file", "body": "plan.xlsx",
                                 "url": "mxc://stadt.de/abc", "info": {"size": 1234}}), ME)
    assert read is not None
    assert (read.file_name, read.file_url, read.file_size, read.text) == \
        ("plan.xlsx", "mxc://stadt.de/abc", 1234, "")
    captioned = read_message(message({"msgtype": "m.file", "body": "Neuer Plan",
                                      "filename": "plan.xlsx", "url": "mxc://s/x"}), ME)
    assert captioned is not None and captioned.text == "Neuer Plan"


def test_reactions_and_which_button_they_press() -> None:
    content = text_content("✅ gespeichert", (Button("Rückgängig", "undo:$e1"),))
    ours = {"sender": ME, "content": content}
    assert button_data(ours, ME, "↩️") == "undo:$e1"
    assert button_data(ours, ME, "↩") == "undo:$e1"  # without the emoji selector
    assert button_data(ours, ME, "Rückgängig") == "undo:$e1"
    assert button_data(ours, ME, "1") == "undo:$e1"
    assert button_data(ours, ME, "👍") is None
    assert button_data({"sender": "@mallory:x", "content": content}, ME, "↩️") is None
    reaction = read_reaction({"type": "m.reaction", "sender": "@anna:stadt.de",
                              "event_id": "$r", "content": {"m.relates_to": {
                                  "rel_type": "m.annotation", "event_id": "$bot",
                                  "key": "↩️"}}}, ME)
    assert reaction is not None and (reaction.target, reaction.key) == ("$bot", "↩️")
    assert read_reaction({"type": "m.reaction", "sender": ME, "content": {}}, ME) is None


def test_two_buttons_get_two_reactions_and_a_hint() -> None:
    content = text_content("Plan ändern?", (Button("Übernehmen", "plan:ok:1"),
                                            Button("Verwerfen", "plan:no:1")))
    assert [b["key"] for b in content[BUTTONS_KEY]] == ["✅", "❌"]
    assert "✅ Übernehmen · ❌ Verwerfen" in content["body"]


def test_html_and_plain_bodies() -> None:
    text = "<b>AP 3</b> &amp; mehr\n<pre>a\nb</pre>\n<a href=\"https://x.de\">Link</a>"
    assert to_html(text) == "<b>AP 3</b> &amp; mehr<br>\n<pre>a\nb</pre><br>\n" \
        "<a href=\"https://x.de\">Link</a>"
    assert to_plain(text) == "AP 3 & mehr\na\nb\nLink (https://x.de)"
    content = text_content("<i>Hallo</i>", reply_to="$q")
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}
    assert content["body"] == "Hallo" and content["formatted_body"] == "<i>Hallo</i>"


def test_an_edit_of_our_message_replaces_it_without_buttons() -> None:
    edit = edit_content("$bot", "↩️ Zurückgenommen")
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$bot"}
    assert edit["m.new_content"]["body"] == "↩️ Zurückgenommen"
    assert BUTTONS_KEY not in edit["m.new_content"] and edit["body"].startswith("* ")


def test_long_texts_are_split_into_events_that_fit() -> None:
    lines = [f"• Meldung {n}: " + "ä€😀" * 40 for n in range(2000)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert "\n".join(parts) == "\n".join(lines)
    for part in parts:
        assert len(json.dumps(text_content(part))) <= MAX_EVENT_BYTES


def tombstone(content: object, state_key: object = "") -> dict[str, Any]:
    return {"type": "m.room.tombstone", "state_key": state_key, "sender": "@anna:stadt.de",
            "event_id": "$t1", "content": content}


def test_a_tombstone_names_the_room_the_chat_continues_in() -> None:
    new = "!neu:stadt.de"
    assert read_tombstone(tombstone({"body": "Dieser Raum wurde ersetzt.",
                                     "replacement_room": new})) == new
    # Room version 12 ids have no server part.
    v12 = "!" + "a" * 43
    assert read_tombstone(tombstone({"replacement_room": v12})) == v12


def test_what_is_no_tombstone_names_no_room() -> None:
    new = {"replacement_room": "!neu:stadt.de"}
    assert read_tombstone(tombstone(new, state_key="x")) is None  # not the room's state
    assert read_tombstone(tombstone(new, state_key=None)) is None  # a message, no state
    assert read_tombstone({**tombstone(new), "type": "m.room.message"}) is None
    assert read_tombstone(tombstone({"body": "ersetzt"})) is None
    assert read_tombstone(tombstone({"replacement_room": 17})) is None
    assert read_tombstone(tombstone({"replacement_room": "#alias:stadt.de"})) is None
    assert read_tombstone(tombstone("kaputt")) is None
    assert read_message(tombstone(new), ME) is None  # nothing the core is asked about
