"""End-to-end: `/kalender abo` through the fake Bot API, and the address served by the process."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.bot_process import ADMIN_ID, MEMBER_ID, BotProcess
from tests.fake_bot_api import FakeBotAPI

pytestmark = pytest.mark.e2e
M21 = "apbot-milestone-M2.1@bildungskommunen"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def address(text: str) -> str:
    return text.split("<code>")[1].split("</code>")[0]


def m21(url: str) -> tuple[int, str]:
    status, body = get(url)
    assert status == 200
    [event] = [e for e in Calendar.from_ical(body).walk("VEVENT") if e["UID"] == M21]
    return int(event["SEQUENCE"]), str(event["SUMMARY"])


def test_kalender_abo_serves_the_calendar_that_follows_the_chat(tmp_path: Path) -> None:
    port = free_port()
    with FakeBotAPI(can_read_all_group_messages=True) as api, BotProcess(
            api, tmp_path / "data", tmp_path / "bot.log", APBOT_CALENDAR_PORT=str(port)) as bot:
        asked = api.push_message("/kalender abo", chat_type="private", user_id=ADMIN_ID)
        text = str(api.wait_for_reply(asked).params["text"])
        url = address(text)
        assert url.startswith(f"http://127.0.0.1:{port}/") and url.endswith(
            "/arbeits-und-zeitplan.ics")
        assert "Outlook" in text and "Thunderbird" in text
        assert m21(url) == (0, "M2.1 Leitbild (Beschluss überfällig) – AP 2")

        # A member's report in the group marks the milestone: the next fetch shows it.
        reported = api.push_message("Leitbild beschlossen", user_id=MEMBER_ID, first_name="Ben")
        assert "Meilenstein" in str(api.wait_for_reply(reported).params["text"])
        assert m21(url) == (1, "✓ M2.1 Leitbild beschlossen – AP 2")

        # Not an admin: one sentence, no address.
        other = api.push_message("/kalender abo", user_id=MEMBER_ID, first_name="Ben")
        refusal = str(api.wait_for_reply(other).params["text"])
        assert "nur die Admins" in refusal and "http" not in refusal

        renewed = api.push_message("/kalender abo neu", chat_type="private", user_id=ADMIN_ID)
        new_url = address(str(api.wait_for_reply(renewed).params["text"]))
        assert new_url != url
        assert get(url)[0] == 404
        assert m21(new_url)[0] == 1
        assert get(f"http://127.0.0.1:{port}/")[0] == 404
        assert "Traceback" not in bot.log()
    with pytest.raises(OSError):  # stopped with the bot
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its socket inodes in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_without_a_port_nothing_listens(tmp_path: Path) -> None:
    with FakeBotAPI() as api, BotProcess(api, tmp_path / "data", tmp_path / "bot.log") as bot:
        asked = api.push_message("/kalender abo", chat_type="private", user_id=ADMIN_ID)
        assert "ausgeschaltet" in str(api.wait_for_reply(asked).params["text"])
        assert bot.proc is not None
        assert listening_ports(bot.proc.pid) == set()
    port = free_port()
    with FakeBotAPI() as api, BotProcess(api, tmp_path / "on", tmp_path / "on.log",
                                         APBOT_CALENDAR_PORT=str(port)) as bot:
        asked = api.push_message("/kalender abo", chat_type="private", user_id=ADMIN_ID)
        api.wait_for_reply(asked)
        assert bot.proc is not None
        assert listening_ports(bot.proc.pid) == {port}  # the check above can see one
