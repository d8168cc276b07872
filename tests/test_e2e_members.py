"""End-to-end: members of the team chat may ask apbot in a private chat (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot_process import BotProcess
from tests.fake_bot_api import DEFAULT_GROUP_ID, FakeBotAPI

pytestmark = pytest.mark.e2e
MEMBER, STRANGER = 3101, 3202


def test_a_member_is_served_in_a_private_chat_and_a_stranger_is_not(tmp_path: Path) -> None:
    with FakeBotAPI() as api, BotProcess(api, tmp_path / "data", tmp_path / "bot.log"):
        api.add_member(DEFAULT_GROUP_ID, MEMBER)
        asked = api.push_message("/status AP3", chat_type="private", user_id=MEMBER,
                                 first_name="Mia")
        answer = api.wait_for_reply(asked)
        assert str(answer.params["text"]).startswith("<b>AP 3 · Bildungskonferenzen</b>")
        stranger = api.push_message("/status AP3", chat_type="private", user_id=STRANGER,
                                    first_name="Fremd")
        refused = api.wait_for_reply(stranger)
        assert "nur für das Koordinierungsteam" in str(refused.params["text"])
        # Asked once, then remembered.
        again = api.push_message("/plan", chat_type="private", user_id=MEMBER, first_name="Mia")
        api.wait_for_reply(again)
    checks = [c for c in api.calls("getChatMember") if c.params.get("user_id") == MEMBER]
    assert len(checks) == 1
