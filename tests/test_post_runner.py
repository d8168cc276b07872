"""Sending automatic posts (issue 5): PostRunner with a real store and a fake publisher.

`run_due` gets injected `now` values; a short real-time test checks the APScheduler
wiring of PostScheduler in the running event loop.
"""

from __future__ import annotations

import asyncio
import time as wallclock
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Context
from bot.post_scheduler import PostScheduler
from bot.posts import compose
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.plan import Plan, load_plan, parse_plan
from workflows.posts import Post
from workflows.progress import Author, MilestoneMark, Update
from workflows.recording import Report, record
from workflows.schedule import PostRunner
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
PLAN_TEXT = PLAN_PATH.read_text(encoding="utf-8-sig")
PLAN = load_plan(PLAN_PATH)
TZ = ZoneInfo("Europe/Berlin")
TEAM_CHAT = "-100123"
ALICE = Author(42, "Frau Müller")
LATE = "(nachgeholt)"


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


Q4 = local(2026, 10, 1, 8)  # quarterly:Q4 2026
Q4_KEY = "quarterly:Q4 2026"


class FakePublisher:
    """Records what would have gone to Telegram, part by part; can fail the next calls.

    `split` cuts a message into parts of at most `part_length` characters at line ends
    (whole when None); `failures` are raised by the next calls to `publish`, in order.
    """

    def __init__(self, part_length: int | None = None) -> None:
        self.sent: list[tuple[int, str]] = []
        self.calls = 0
        self.fail_next = 0
        self.failures: list[BaseException] = []
        self.part_length = part_length

    def split(self, message: str) -> list[str]:
        if self.part_length is None:
            return [message]
        parts: list[str] = []
        for line in message.split("\n"):
            if parts and len(parts[-1]) + 1 + len(line) <= self.part_length:
                parts[-1] += "\n" + line
            else:
                parts.append(line)
        return parts

    async def publish(self, chat_id: str, part: str) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("Telegram nicht erreichbar")
        self.sent.append((chat_id, part))


class Bot:
    """The store, the publisher and a way to (re)start runners, as the bot wires them."""

    def __init__(self, data_dir: Path, plan: Plan) -> None:
        self.data_dir, self.plan = data_dir, plan
        self.publisher = FakePublisher()
        self.store = Store.open(data_dir, Q4 - timedelta(days=60))
        self.chat: int | None = TEAM_CHAT

    def runner(self, up_since: datetime) -> PostRunner:
        settings = Settings(team_chat_id=TEAM_CHAT, timezone=TZ, data_dir=self.data_dir)
        ctx = Context(settings, self.plan, self.store)

        def composer(post: Post, late: bool, now: datetime) -> str:
            return compose(ctx, post, late, now)

        return PostRunner(self.store, self.plan, TZ, lambda: self.chat, composer,
                          self.publisher, up_since)

    def restart(self, now: datetime) -> None:
        """The process ends and starts again on the same data directory."""
        self.store.close()
        self.store = Store.open(self.data_dir, now)

    def log(self, key: str) -> list[dict[str, Any]]:
        return [entry for entry in self.store.post_log() if entry["key"] == key]

    @property
    def texts(self) -> list[str]:
        return [message for _, message in self.publisher.sent]


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    b = Bot(tmp_path, PLAN)
    yield b
    b.store.close()


def plan_variant(old: str, new: str) -> Plan:
    assert old in PLAN_TEXT
    return parse_plan(PLAN_TEXT.replace(old, new), Path("variant.toml"))


# -- first start, restarts, repeated checks ----------------------------------------


async def test_first_start_just_after_a_post_sends_it_once_marked_late(bot: Bot) -> None:
    now = Q4 + timedelta(minutes=2)
    runner = bot.runner(up_since=now)  # started after the post's time
    assert bot.store.last_post_check() is None
    done = await runner.run_due(now)
    assert [chat for chat, _ in bot.publisher.sent] == [TEAM_CHAT]
    [text] = bot.texts
    assert "Neues Quartal" in text and "Q4 2026" in text
    assert LATE in text.splitlines()[0]
    [entry] = bot.log(Q4_KEY)
    assert entry["status"] == "sent"
    assert entry["late"] is True
    assert entry["chat_id"] == TEAM_CHAT
    assert datetime.fromisoformat(entry["planned"]) == Q4
    assert Q4_KEY in {d.post.key for d in done}
    assert bot.store.last_post_check() == now
    # the jour fixe summaries of the four weeks before are over: logged as skipped, not sent
    skipped = [e for e in bot.store.post_log() if e["status"] == "skipped"]
    assert skipped and all(e["key"].startswith("meeting:jour-fixe:2026-09") for e in skipped)


async def test_first_start_before_a_post_sends_it_on_time_without_mark(bot: Bot) -> None:
    runner = bot.runner(up_since=Q4 - timedelta(minutes=1))
    await runner.run_due(Q4 + timedelta(seconds=10))
    [text] = bot.texts
    assert LATE not in text
    assert bot.log(Q4_KEY)[0]["late"] is False


async def test_checking_again_sends_nothing_more(bot: Bot) -> None:
    now = Q4 + timedelta(minutes=2)
    runner = bot.runner(up_since=now)
    await runner.run_due(now)
    for later in (now, now + timedelta(minutes=5), now + timedelta(hours=1),
                  now + timedelta(days=3)):
        await runner.run_due(later)
    assert len([t for t in bot.texts if "Q4 2026" in t]) == 1
    assert len(bot.log(Q4_KEY)) == 1


async def test_restart_sends_nothing_already_sent(bot: Bot) -> None:
    now = Q4 + timedelta(minutes=2)
    await bot.runner(up_since=now).run_due(now)
    assert len(bot.publisher.sent) == 1
    bot.restart(now + timedelta(minutes=10))
    again = now + timedelta(minutes=10)
    assert await bot.runner(up_since=again).run_due(again) == []
    assert len(bot.publisher.sent) == 1
    assert len(bot.log(Q4_KEY)) == 1


# -- down across a post's time -----------------------------------------------------


async def test_down_across_a_post_sends_it_once_late_after_restart(bot: Bot) -> None:
    t0 = Q4 - timedelta(hours=1)
    await bot.runner(up_since=t0 - timedelta(hours=1)).run_due(t0)
    assert bot.publisher.sent == []
    bot.restart(Q4 + timedelta(hours=2))
    t1 = Q4 + timedelta(hours=2)
    runner = bot.runner(up_since=t1)
    await runner.run_due(t1)
    await runner.run_due(t1 + timedelta(minutes=5))
    [text] = bot.texts
    assert "Q4 2026" in text and LATE in text
    [entry] = bot.log(Q4_KEY)
    assert (entry["status"], entry["late"]) == ("sent", True)


async def test_down_longer_than_the_window_logs_it_as_skipped(bot: Bot) -> None:
    t0 = Q4 - timedelta(hours=1)
    await bot.runner(up_since=t0).run_due(t0)
    t1 = Q4 + timedelta(days=15)
    bot.restart(t1)
    await bot.runner(up_since=t1).run_due(t1)
    assert bot.publisher.sent == []  # everything in those 15 days is stale now
    [entry] = bot.log(Q4_KEY)
    assert entry["status"] == "skipped"
    assert datetime.fromisoformat(entry["planned"]) == Q4
    assert entry["chat_id"] is None


async def test_meeting_summary_missed_while_down(bot: Bot) -> None:
    key = "meeting:jour-fixe:2026-10-06T10:00:00"  # summary at 09:00
    bot.store.set_last_post_check(local(2026, 10, 6, 8, 30))  # the last check before going down
    back = local(2026, 10, 6, 9, 40)
    bot.restart(back)
    await bot.runner(up_since=back).run_due(back)
    [text] = bot.texts
    assert "Jour fixe Koordinierungsteam" in text and LATE in text
    assert bot.log(key)[0]["status"] == "sent"


async def test_meeting_summary_after_the_meeting_started_is_skipped(bot: Bot) -> None:
    key = "meeting:jour-fixe:2026-10-06T10:00:00"
    bot.store.set_last_post_check(local(2026, 10, 6, 8, 30))  # the last check before going down
    back = local(2026, 10, 6, 10, 5)
    bot.restart(back)
    await bot.runner(up_since=back).run_due(back)
    assert bot.publisher.sent == []
    assert bot.log(key)[0]["status"] == "skipped"


# -- failures and missing configuration --------------------------------------------


async def test_failed_publish_is_retried_and_delivered_exactly_once(bot: Bot) -> None:
    before = Q4 - timedelta(hours=1)
    runner = bot.runner(up_since=before - timedelta(hours=1))
    await runner.run_due(before)
    bot.publisher.fail_next = 2
    assert await runner.run_due(Q4) == []
    assert bot.publisher.sent == []
    # logged as begun before the first part went out, with nothing delivered yet
    [entry] = bot.log(Q4_KEY)
    assert (entry["status"], entry["parts"], entry["parts_sent"]) == ("sending", 1, 0)
    assert bot.store.last_post_check() == before
    await runner.run_due(Q4 + timedelta(minutes=1))  # fails again
    assert bot.publisher.sent == [] and bot.log(Q4_KEY)[0]["status"] == "sending"
    await runner.run_due(Q4 + timedelta(minutes=6))
    await runner.run_due(Q4 + timedelta(minutes=11))
    assert bot.publisher.calls == 3
    [text] = bot.texts
    assert "Q4 2026" in text
    [entry] = bot.log(Q4_KEY)
    assert (entry["status"], entry["parts_sent"]) == ("sent", 1)
    assert "texts" not in entry  # the parts are kept only until the post is complete
    assert bot.store.last_post_check() == Q4 + timedelta(minutes=11)


async def test_no_team_chat_sends_and_logs_nothing(bot: Bot) -> None:
    bot.chat = None
    before = Q4 - timedelta(hours=1)
    bot.store.set_last_post_check(before)
    runner = bot.runner(up_since=before)
    await runner.run_due(Q4 + timedelta(minutes=1))
    assert bot.publisher.calls == 0
    assert bot.store.post_log() == []
    assert bot.store.last_post_check() == before
    # once the chat is configured, the post still goes out (late, within its window)
    bot.chat = TEAM_CHAT
    await runner.run_due(Q4 + timedelta(hours=1))
    [text] = bot.texts
    assert "Q4 2026" in text and LATE in text


# -- content: milestones and meeting summaries -------------------------------------


def mark(milestone: str, on: date) -> MilestoneMark:
    return MilestoneMark(milestone=milestone, reached_on=on, author=ALICE, chat_id=TEAM_CHAT,
                         message_id="99", at=datetime.combine(on, time(12), TZ))


@pytest.mark.parametrize("is_reached", [False, True])
async def test_reached_milestone_gets_no_reminder(bot: Bot, is_reached: bool) -> None:
    reminder = local(2026, 12, 3, 8)  # milestone:M3.3:28 (due 31.12.2026)
    if is_reached:
        bot.store.add_mark(mark("M3.3", date(2026, 12, 2)), local(2026, 12, 2, 12))
    bot.store.set_last_post_check(reminder - timedelta(hours=1))
    await bot.runner(up_since=reminder - timedelta(days=1)).run_due(reminder + timedelta(seconds=5))
    if is_reached:
        assert bot.publisher.sent == []
        assert bot.store.post_log() == []
    else:
        [text] = bot.texts
        assert "Erinnerung" in text and "M3.3" in text and "31.12.2026" in text
        assert LATE not in text


async def test_reached_milestone_gets_no_overdue_notice(bot: Bot) -> None:
    bot.store.add_mark(mark("M3.3", date(2026, 12, 2)), local(2026, 12, 2, 12))
    notice = local(2027, 1, 4, 8)  # Q1 2027 overview and, if open, overdue:M3.3:1
    bot.store.set_last_post_check(notice - timedelta(hours=1))
    await bot.runner(up_since=notice - timedelta(days=1)).run_due(notice + timedelta(seconds=5))
    [text] = bot.texts
    assert "Q1 2027" in text
    assert {e["key"] for e in bot.store.post_log()} == {"quarterly:Q1 2027"}


async def test_overdue_notice_text(bot: Bot) -> None:
    notice = local(2027, 1, 4, 8)
    bot.store.set_last_post_check(notice - timedelta(hours=1))
    await bot.runner(up_since=notice - timedelta(days=1)).run_due(notice + timedelta(seconds=5))
    assert {e["key"] for e in bot.store.post_log()} == {"quarterly:Q1 2027", "overdue:M3.3:1"}
    [notice_text] = [t for t in bot.texts if "Überfällig" in t]
    assert "M3.3" in notice_text and "1. Erinnerung von 4" in notice_text


async def test_team_summary_lists_updates_since_the_previous_meeting_by_ap(bot: Bot) -> None:
    # jour fixe on Tue 13.10.2026 10:00, the previous one on 06.10.; summary at 09:00
    outcome = record(bot.store, PLAN, Report("AP3: Einladungen verschickt", ALICE, TEAM_CHAT, 7,
                                             local(2026, 10, 7, 11)), local(2026, 10, 7, 11))
    assert outcome.kind == "recorded"
    old = Update(ap="AP4", text="alte Meldung vor dem letzten Termin", author=ALICE,
                 chat_id=TEAM_CHAT, message_id="5", at=local(2026, 10, 5, 15))
    bot.store.add_update(old, local(2026, 10, 5, 15))
    summary = local(2026, 10, 13, 9)
    bot.store.set_last_post_check(summary - timedelta(minutes=5))
    await bot.runner(up_since=summary - timedelta(days=1)).run_due(summary)
    [text] = bot.texts
    assert text.startswith("📝 <b>Jour fixe Koordinierungsteam</b> – Di., 13.10.2026 10:00\n")
    assert LATE not in text
    assert "<b>Meldungen seit Di., 06.10.2026</b>" in text
    lines = text.splitlines()
    ap3 = lines.index("<b>AP 3</b>")
    assert "Frau Müller" in lines[ap3 + 1] and "Einladungen verschickt" in lines[ap3 + 1]
    assert "alte Meldung" not in text
    assert "<b>AP 4</b>" not in text
    assert bot.log("meeting:jour-fixe:2026-10-13T10:00:00")[0]["status"] == "sent"


async def test_steering_summary_has_a_line_per_work_package(bot: Bot) -> None:
    summary = local(2026, 10, 13, 14)  # Steuerungsgruppe on Wed 14.10.2026 14:00
    bot.store.set_last_post_check(summary - timedelta(minutes=5))
    await bot.runner(up_since=summary - timedelta(days=1)).run_due(summary)
    [text] = bot.texts
    assert "Steuerungsgruppe Bildung" in text
    ap_lines = [line for line in text.splitlines() if line.startswith("<b>AP ")]
    assert len(ap_lines) == 13
    for n in range(1, 14):
        assert sum(line.startswith(f"<b>AP {n}</b>") for line in ap_lines) == 1
    assert bot.log("meeting:steuerungsgruppe:2026-10-14T14:00:00")[0]["status"] == "sent"


def variant_meeting(dtstart: str, summary_before_minutes: int) -> Plan:
    """The shipped plan with the jour fixe daily at `dtstart`'s time."""
    old = ('rrule = "FREQ=WEEKLY;BYDAY=TU"\ndtstart = "2025-01-07T10:00"\nduration_minutes = 60\n'
           "summary_before_minutes = 60")
    new = (f'rrule = "FREQ=DAILY"\ndtstart = "{dtstart}"\nduration_minutes = 60\n'
           f"summary_before_minutes = {summary_before_minutes}")
    return plan_variant(old, new)


async def tick_through(b: Bot, start: datetime, end: datetime) -> None:
    """Check every 5 minutes of real time, as PostScheduler's safety tick does."""
    utc, stop = start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
    runner = b.runner(up_since=start - timedelta(days=1))
    b.store.set_last_post_check(start - timedelta(minutes=5))
    while utc <= stop:
        await runner.run_due(utc.astimezone(TZ))
        utc += timedelta(minutes=5)


async def test_no_post_between_two_and_three_across_the_autumn_change(tmp_path: Path) -> None:
    b = Bot(tmp_path, variant_meeting("2025-01-07T03:30", 60))
    try:
        await tick_through(b, local(2026, 10, 24, 0), local(2026, 10, 26, 6))
        sent = [e for e in b.store.post_log() if e["key"].startswith("meeting:")]
        assert [e["key"] for e in sent] == [f"meeting:jour-fixe:2026-10-{d}T03:30:00"
                                           for d in (24, 25, 26)]
        assert all(e["status"] == "sent" and not e["late"] for e in sent)
        done = [datetime.fromisoformat(e["done"]).astimezone(TZ) for e in sent]
        assert [d.hour for d in done if d.hour == 2] == []
        assert len(b.publisher.sent) == 3
    finally:
        b.store.close()


async def test_summary_of_a_meeting_just_before_three_is_sent_outside_the_dst_hour(
        tmp_path: Path) -> None:
    b = Bot(tmp_path, variant_meeting("2025-01-07T02:45", 10))
    try:
        await tick_through(b, local(2026, 10, 24, 0), local(2026, 10, 24, 4))
        [entry] = [e for e in b.store.post_log() if e["key"].startswith("meeting:")]
        assert entry["status"] == "sent"
        assert datetime.fromisoformat(entry["done"]).astimezone(TZ).hour != 2
    finally:
        b.store.close()


# -- PostScheduler in real time ------------------------------------------------------


def single_meeting_plan(start: datetime, summary_before_minutes: int) -> Plan:
    meeting = (
        '[[meeting]]\nid = "kurz"\ntitle = "Kurzbesprechung"\nkind = "team"\n'
        'rrule = "FREQ=DAILY;COUNT=1"\n'
        f'dtstart = "{start.replace(tzinfo=None).isoformat(timespec="seconds")}"\n'
        f"duration_minutes = 60\nsummary_before_minutes = {summary_before_minutes}\n"
    )
    return parse_plan(PLAN_TEXT[:PLAN_TEXT.index("[[meeting]]")] + meeting, Path("variant.toml"))


def running_clock(origin: datetime) -> Callable[[], datetime]:
    """A clock that starts at `origin` and runs on in real time: the machine's date and
    hour do not matter to the test."""
    started = wallclock.monotonic()

    def clock() -> datetime:
        return origin + timedelta(seconds=wallclock.monotonic() - started)
    return clock


async def run_scheduler(tmp_path: Path, summary_before_minutes: int) -> Bot:
    clock = running_clock(datetime(2026, 11, 26, 9, 58, 58, 500000, tzinfo=TZ))
    now = clock()
    summary_at = (now + timedelta(seconds=1.5)).replace(microsecond=0)  # 1–1.5 s from now
    start = summary_at + timedelta(minutes=summary_before_minutes)
    b = Bot(tmp_path, single_meeting_plan(start, summary_before_minutes))
    key = f"meeting:kurz:{start.replace(tzinfo=None).isoformat()}"
    # a previous run just now: no catch-up of the programme's older posts in this test
    b.store.set_last_post_check(now - timedelta(seconds=1))
    scheduler = PostScheduler(b.runner(up_since=now), clock)
    try:
        scheduler.start()
        for _ in range(50):  # at most 5 s
            if b.publisher.sent or key in b.store.posted_keys():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # a second send would show up here
    finally:
        scheduler.shutdown()
    return b


async def test_scheduler_posts_a_summary_at_its_time(tmp_path: Path) -> None:
    b = await run_scheduler(tmp_path, summary_before_minutes=1)
    try:
        [text] = b.texts
        assert "Kurzbesprechung" in text
        assert LATE not in text
    finally:
        b.store.close()
