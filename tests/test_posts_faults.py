"""Automatic posts under faults (issue 11): a full disk, overlapping checks, refused and lost
parts, a moved chat, the autumn clock change, clock jumps and absurd plan numbers.

Unit level: PostRunner over a real store on tmp_path and a fake publisher (or the real
Telegram Sender over a fake Bot), with injected `now` values; a full disk is the
storage's atomic write failing with ENOSPC.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot as TelegramBot
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, NetworkError, TimedOut

from bot.cli.posts import UsageError, schedule_text
from bot.frontends.telegram.limits import TelegramLimits
from bot.frontends.telegram.sending import ButtonData, Sender
from bot.frontends.telegram.transport import AnswerLost
from bot.messages import Context
from bot.post_scheduler import PostScheduler
from bot.settings import Settings
from tests.test_post_runner import (
    LATE,
    PLAN,
    PLAN_TEXT,
    Q4,
    Q4_KEY,
    TEAM_CHAT,
    TZ,
    Bot,
    FakePublisher,
    local,
)
from workflows import storage
from workflows.plan import Plan, parse_plan
from workflows.posts import (
    Post,
    due_posts,
    first_look_back,
    meeting_posts,
    milestone_posts,
    next_post_time,
    planned_posts,
)
from workflows.schedule import ChatMoved, DeliveryUnknown, PostRunner
from workflows.storage import StoreWriteError

UTC = ZoneInfo("UTC")
NEW_CHAT = "-100777"


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    b = Bot(tmp_path, PLAN)
    yield b
    b.store.close()


class Disk:
    """The data directory's disk: when `full`, replacing a file fails with ENOSPC."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        real = storage.atomic_write

        def atomic_write(path: Path, payload: bytes) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            real(path, payload)

        monkeypatch.setattr(storage, "atomic_write", atomic_write)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(monkeypatch)


def quiet_before_q4(bot: Bot) -> PostRunner:
    """A runner whose last check was an hour before the Q4 overview (nothing else due)."""
    before = Q4 - timedelta(hours=1)
    bot.store.set_last_post_check(before)
    return bot.runner(up_since=before - timedelta(days=1))


async def check_every_five_minutes(runner: PostRunner, start: datetime, count: int) -> None:
    for n in range(count):
        await runner.run_due(start + n * timedelta(minutes=5))


def copies(bot: Bot, needle: str) -> int:
    return sum(needle in text for text in bot.texts)


# -- §3 a full disk ---------------------------------------------------------------


async def test_full_disk_sends_nothing_and_tells_the_admins_once(bot: Bot, disk: Disk) -> None:
    runner = quiet_before_q4(bot)
    disk.full = True
    await check_every_five_minutes(runner, Q4 + timedelta(seconds=10), 12)
    assert bot.publisher.calls == 0  # without its log entry, the post does not go out
    assert bot.log(Q4_KEY) == []
    [notice] = runner.take_notices()
    assert notice.startswith("⚠️ Automatische Beiträge angehalten") and "\n" not in notice
    assert "doppelt" in notice
    disk.full = False
    await check_every_five_minutes(runner, Q4 + timedelta(hours=1), 3)
    assert copies(bot, "Q4 2026") == 1
    assert LATE in bot.texts[0]
    assert [e["status"] for e in bot.log(Q4_KEY)] == ["sent"]
    [back] = runner.take_notices()
    assert back.startswith("✅ Automatische Beiträge laufen wieder")


@pytest.mark.parametrize("coroutine", [False, True])
async def test_the_scheduler_hands_each_notice_to_the_front_end_once(
        bot: Bot, disk: Disk, coroutine: bool) -> None:
    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    now = Q4 + timedelta(seconds=10)
    scheduler = PostScheduler(quiet_before_q4(bot), lambda: now,
                              notify=tell if coroutine else told.append)
    disk.full = True
    await scheduler.check()
    await scheduler.check()
    assert len(told) == 1 and "angehalten" in told[0]
    assert bot.publisher.calls == 0


async def test_a_one_part_post_costs_three_writes_of_the_main_file(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = quiet_before_q4(bot)
    written: list[Path] = []
    real = storage.atomic_write

    def recording(path: Path, payload: bytes) -> None:
        written.append(path)
        real(path, payload)

    monkeypatch.setattr(storage, "atomic_write", recording)
    await runner.run_due(Q4 + timedelta(seconds=10))
    assert copies(bot, "Q4 2026") == 1
    assert written == [bot.store.path] * 3  # begun, part delivered, time of the check


class FillingPublisher(FakePublisher):
    """The disk fills up right after a part went out: its log entry cannot be written."""

    def __init__(self, disk: Disk) -> None:
        super().__init__()
        self.disk = disk

    async def publish(self, chat_id: str, part: str) -> None:
        await super().publish(chat_id, part)
        self.disk.full = True


async def test_a_post_whose_log_entry_fails_after_sending_is_not_sent_again(
        bot: Bot, disk: Disk) -> None:
    bot.publisher = FillingPublisher(disk)
    runner = quiet_before_q4(bot)
    await check_every_five_minutes(runner, Q4 + timedelta(seconds=10), 12)  # an hour
    assert bot.publisher.calls == 1
    assert copies(bot, "Q4 2026") == 1
    [entry] = bot.log(Q4_KEY)  # on disk: begun, the delivery not yet recorded
    assert (entry["status"], entry["parts_sent"]) == ("sending", 0)
    assert len(runner.take_notices()) == 1
    disk.full = False
    await check_every_five_minutes(runner, Q4 + timedelta(hours=1), 3)
    assert bot.publisher.calls == 1
    [entry] = bot.log(Q4_KEY)
    assert (entry["status"], entry["parts_sent"]) == ("sent", 1)
    assert bot.store.last_post_check() == Q4 + timedelta(hours=1, minutes=10)


async def test_first_start_on_a_full_disk_neither_crashes_nor_sends(bot: Bot, disk: Disk) -> None:
    now = Q4 + timedelta(minutes=2)  # older jour fixe summaries are due to be skipped
    runner = bot.runner(up_since=now)
    disk.full = True
    assert await runner.run_due(now) == []
    assert await runner.run_due(now + timedelta(minutes=5)) == []
    assert bot.publisher.calls == 0 and bot.store.post_log() == []
    disk.full = False
    await runner.run_due(now + timedelta(minutes=10))
    assert copies(bot, "Q4 2026") == 1
    assert {e["status"] for e in bot.store.post_log() if e["key"] != Q4_KEY} == {"skipped"}


async def test_a_skip_entry_that_cannot_be_written_blocks_no_later_post(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    real = bot.store.log_post

    def log_post(key: str, status: str, *args: Any, **kwargs: Any) -> None:
        if status == "skipped":
            raise StoreWriteError("Speichern in apbot.json fehlgeschlagen (Testfehler).")
        real(key, status, *args, **kwargs)

    monkeypatch.setattr(bot.store, "log_post", log_post)
    now = Q4 + timedelta(minutes=2)
    runner = bot.runner(up_since=now)
    await runner.run_due(now)
    await runner.run_due(now + timedelta(minutes=5))
    # sent after the skips that failed, and only once; the skipped ones never
    assert bot.texts == [t for t in bot.texts if "Q4 2026" in t] and len(bot.texts) == 1
    assert [e["key"] for e in bot.store.post_log()] == [Q4_KEY]
    assert bot.store.last_post_check() == now + timedelta(minutes=5)  # the check went on


async def test_a_post_that_cannot_be_composed_is_tried_again_and_blocks_no_other(
        bot: Bot) -> None:
    runner = quiet_before_q4(bot)
    compose = runner.compose
    broken = {"milestone:M3.3:28"}

    def flaky(post: Post, late: bool, now: datetime) -> str:
        if post.key in broken:
            raise ValueError("kaputt")
        return compose(post, late, now)

    runner.compose = flaky
    reminder = local(2026, 12, 3, 8)  # M3.3's reminder; Q4's overview is long past
    bot.store.set_last_post_check(reminder - timedelta(minutes=1))
    jour_fixe = local(2026, 12, 8, 9)  # the next post after the reminder
    await runner.run_due(jour_fixe)
    assert [e["key"] for e in bot.store.post_log()] == ["meeting:jour-fixe:2026-12-08T10:00:00"]
    assert bot.store.last_post_check() == reminder  # held at the post left undecided
    broken.clear()
    await runner.run_due(jour_fixe + timedelta(minutes=5))
    assert bot.log("milestone:M3.3:28")[0]["status"] == "sent"
    assert bot.store.last_post_check() == jour_fixe + timedelta(minutes=5)


# -- §4 overlapping checks, parts, lost answers ------------------------------------


class SlowPublisher(FakePublisher):
    """Holds every part until released, as a send waiting out a 429 does."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, chat_id: str, part: str) -> None:
        self.waiting.set()
        await self.release.wait()
        await super().publish(chat_id, part)


async def test_a_check_while_another_waits_on_a_send_does_nothing(bot: Bot) -> None:
    bot.publisher = SlowPublisher()
    runner = quiet_before_q4(bot)
    first = asyncio.create_task(runner.run_due(Q4 + timedelta(seconds=10)))
    await bot.publisher.waiting.wait()
    assert runner.busy
    assert await runner.run_due(Q4 + timedelta(minutes=5)) == []  # the safety tick
    assert bot.publisher.calls == 0
    bot.publisher.release.set()
    assert [d.post.key for d in await first] == [Q4_KEY]
    await runner.run_due(Q4 + timedelta(minutes=10))
    assert bot.publisher.calls == 1 and copies(bot, "Q4 2026") == 1


class RefusingPublisher(FakePublisher):
    """Refuses the calls whose numbers are in `refuse` (1 = the first call)."""

    def __init__(self, part_length: int, refuse: Callable[[int], bool]) -> None:
        super().__init__(part_length)
        self.refuse = refuse

    async def publish(self, chat_id: str, part: str) -> None:
        if self.refuse(self.calls + 1):
            self.calls += 1
            raise RuntimeError("Bad Request: refused")
        await super().publish(chat_id, part)


async def test_a_refused_second_part_is_sent_alone_at_the_next_check(bot: Bot) -> None:
    bot.publisher = RefusingPublisher(300, refuse=lambda call: call == 2)
    runner = quiet_before_q4(bot)
    await runner.run_due(Q4 + timedelta(seconds=10))
    [first] = bot.texts
    [entry] = bot.log(Q4_KEY)
    assert entry["status"] == "sending" and entry["parts"] >= 2 and entry["parts_sent"] == 1
    parts = entry["texts"]
    assert parts[0] == first and "Neues Quartal" in first
    await check_every_five_minutes(runner, Q4 + timedelta(minutes=5), 3)
    assert bot.texts == parts  # every part once, in order: the first never again
    [entry] = bot.log(Q4_KEY)
    assert (entry["status"], entry["parts_sent"]) == ("sent", len(parts))


async def test_after_a_restart_the_missing_parts_come_from_the_log(bot: Bot) -> None:
    bot.publisher = RefusingPublisher(300, refuse=lambda call: call == 2)
    await quiet_before_q4(bot).run_due(Q4 + timedelta(seconds=10))
    parts = bot.log(Q4_KEY)[0]["texts"]
    back = Q4 + timedelta(hours=3)
    bot.restart(back)
    await bot.runner(up_since=back).run_due(back)
    assert bot.texts == parts  # the rest of the post as begun, not a later, late text
    assert bot.log(Q4_KEY)[0]["status"] == "sent"


async def test_a_part_refused_until_its_post_is_stale_is_given_up(bot: Bot) -> None:
    bot.publisher = RefusingPublisher(300, refuse=lambda call: call >= 2)
    runner = quiet_before_q4(bot)
    await runner.run_due(Q4 + timedelta(seconds=10))
    for hours in range(1, 24 * 15, 12):
        await runner.run_due(Q4 + timedelta(hours=hours))
    assert len(bot.texts) == 1  # the first part, once
    [entry] = bot.log(Q4_KEY)
    assert entry["status"] == "incomplete" and entry["parts_sent"] == 1
    assert "texts" not in entry


async def test_a_part_whose_answer_was_lost_is_sent_once_more_at_the_next_check(
        bot: Bot) -> None:
    bot.publisher.failures = [DeliveryUnknown("read timeout")]
    runner = quiet_before_q4(bot)
    await runner.run_due(Q4 + timedelta(seconds=10))
    assert bot.publisher.calls == 1  # not again at once
    await check_every_five_minutes(runner, Q4 + timedelta(minutes=5), 3)
    assert bot.publisher.calls == 2
    assert bot.log(Q4_KEY)[0]["status"] == "sent"


# -- §4 the autumn clock change: a restart at 02:10 ----------------------------------


def night_meetings() -> Plan:
    """Daily meetings at 02:30 (summary 10 minutes before) and 03:30 (60 minutes before):
    on 25.10.2026 both summaries move to 01:55 summer time; 02:30 is in the first pass of
    the repeated hour, 03:30 after it."""
    meetings = (
        '[[meeting]]\nid = "frueh"\ntitle = "Frühbesprechung"\nkind = "team"\n'
        'rrule = "FREQ=DAILY"\ndtstart = "2026-10-20T02:30"\n'
        "duration_minutes = 30\nsummary_before_minutes = 10\n\n"
        '[[meeting]]\nid = "spaet"\ntitle = "Spätbesprechung"\nkind = "steering"\n'
        'rrule = "FREQ=DAILY"\ndtstart = "2026-10-20T03:30"\n'
        "duration_minutes = 30\nsummary_before_minutes = 60\n"
    )
    return parse_plan(PLAN_TEXT[:PLAN_TEXT.index("[[meeting]]")] + meetings, Path("night.toml"))


FRUEH = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
SPAET = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # 03:30 winter time
NIGHT_KEYS = {"meeting:frueh:2026-10-25T02:30:00": FRUEH,
              "meeting:spaet:2026-10-25T03:30:00": SPAET}


async def run_through_the_night(b: Bot, runner: PostRunner, start: datetime) -> None:
    """Checks every 5 minutes of real time from `start` to 04:00 winter time."""
    at, stop = start.astimezone(UTC), datetime(2026, 10, 25, 3, 0, tzinfo=UTC)
    while at <= stop:
        await runner.run_due(at.astimezone(TZ))
        at += timedelta(minutes=5)


def night_log(b: Bot) -> dict[str, dict[str, Any]]:
    entries = [e for e in b.store.post_log() if e["key"] in NIGHT_KEYS]
    assert len(entries) == len({e["key"] for e in entries})
    return {e["key"]: e for e in entries}


@pytest.mark.parametrize("fold", [1, 0])
async def test_restart_at_ten_past_two_in_the_repeated_hour(tmp_path: Path, fold: int) -> None:
    b = Bot(tmp_path, night_meetings())
    try:
        b.store.set_last_post_check(local(2026, 10, 25, 1, 0))  # then down until 02:10
        back = datetime(2026, 10, 25, 2, 10, fold=fold, tzinfo=TZ)
        b.restart(back)
        await run_through_the_night(b, b.runner(up_since=back), back)
        logged = night_log(b)
        assert set(logged) == set(NIGHT_KEYS)
        for key, entry in logged.items():
            if entry["status"] == "sent":  # never after the meeting started
                assert datetime.fromisoformat(entry["done"]) <= NIGHT_KEYS[key]
        sent = {k for k, e in logged.items() if e["status"] == "sent"}
        if fold == 1:  # 02:10 winter time: the 02:30 meeting began 40 minutes ago
            assert sent == {"meeting:spaet:2026-10-25T03:30:00"}
            assert logged["meeting:frueh:2026-10-25T02:30:00"]["status"] == "skipped"
        else:  # 02:10 summer time: both meetings are still ahead
            assert sent == set(NIGHT_KEYS)
        assert len(b.publisher.sent) == len(sent)  # each at most once
        assert all(LATE in text for text in b.texts)
    finally:
        b.store.close()


async def test_running_through_the_change_and_restarting_at_ten_past_two(
        tmp_path: Path) -> None:
    b = Bot(tmp_path, night_meetings())
    try:
        start = local(2026, 10, 25, 1, 0)
        b.store.set_last_post_check(start - timedelta(minutes=5))
        runner = b.runner(up_since=start - timedelta(days=1))
        stop = datetime(2026, 10, 25, 2, 5, fold=1, tzinfo=TZ).astimezone(UTC)
        at = start.astimezone(UTC)
        while at <= stop:
            await runner.run_due(at.astimezone(TZ))
            at += timedelta(minutes=5)
        back = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=TZ)
        b.restart(back)
        await run_through_the_night(b, b.runner(up_since=back), back)
        logged = night_log(b)
        assert {k: e["status"] for k, e in logged.items()} == dict.fromkeys(NIGHT_KEYS, "sent")
        assert len(b.publisher.sent) == 2
        for entry in logged.values():
            done = datetime.fromisoformat(entry["done"])
            assert done == local(2026, 10, 25, 1, 55) and not entry["late"]
    finally:
        b.store.close()


def test_due_posts_compare_instants_not_wall_times() -> None:
    now = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=TZ)  # as datetime.now(TZ) gives it
    decisions = due_posts(night_meetings(), [], TZ, now, set(), since=local(2026, 10, 25, 1),
                          up_since=now)
    actions = {d.post.key: d.action for d in decisions}
    assert actions == {"meeting:frueh:2026-10-25T02:30:00": "skip",
                       "meeting:spaet:2026-10-25T03:30:00": "send"}


# -- §4 the publisher for Telegram ----------------------------------------------------


class FakeTelegramBot:
    """Stands in for telegram.Bot: records send_message calls, raises the given errors."""

    def __init__(self, *errors: Exception) -> None:
        self.calls: list[tuple[int, str, dict[str, Any]]] = []
        self.errors = list(errors)

    async def send_message(self, chat_id: str, text: str, **kwargs: Any) -> None:
        self.calls.append((chat_id, text, kwargs))
        if self.errors:
            raise self.errors.pop(0)


def telegram_publisher(fake: FakeTelegramBot) -> Sender:
    """The Telegram front-end's sender, which publishes the posts (no store needed)."""
    return Sender(cast(TelegramBot, fake), TelegramLimits(),
                  cast(ButtonData, None))


def caused_by(err: Exception, cause: Exception) -> Exception:
    err.__cause__ = cause
    return err


async def test_telegram_publisher_sends_a_part_with_a_long_read_timeout() -> None:
    fake = FakeTelegramBot()
    await telegram_publisher(fake).publish(TEAM_CHAT, "<b>Hallo</b>")
    [(chat, text, kwargs)] = fake.calls
    assert (chat, text) == (int(TEAM_CHAT), "<b>Hallo</b>")  # Telegram takes numbers
    assert kwargs["read_timeout"] >= 30 and kwargs["parse_mode"] == ParseMode.HTML


def test_telegram_publisher_splits_what_telegram_cannot_take_at_once() -> None:
    parts = telegram_publisher(FakeTelegramBot()).split("Zeile mit Text\n" * 600)
    assert len(parts) >= 2 and all(len(p) <= 4096 for p in parts)


@pytest.mark.parametrize("error", [
    caused_by(TimedOut(), AnswerLost("SocketTimeoutError: slow")),
    caused_by(NetworkError("aiohttp.ServerDisconnectedError: closed"),
              AnswerLost("ServerDisconnectedError: closed")),
])
async def test_a_lost_answer_is_not_retried_at_once(error: Exception) -> None:
    fake = FakeTelegramBot(error, error)
    with pytest.raises(DeliveryUnknown):
        await telegram_publisher(fake).publish(TEAM_CHAT, "Text")
    assert len(fake.calls) == 1


async def test_telegram_publisher_reports_a_migrated_group_as_chat_moved() -> None:
    fake = FakeTelegramBot(ChatMigrated(int(NEW_CHAT)))
    with pytest.raises(ChatMoved) as moved:
        await telegram_publisher(fake).publish(TEAM_CHAT, "Text")
    assert moved.value.new_chat_id == NEW_CHAT


# -- §6 a supergroup migration seen only as an answer --------------------------------


async def test_a_moved_chat_is_recorded_and_the_post_delivered_there(bot: Bot) -> None:
    bot.publisher.failures = [ChatMoved(NEW_CHAT)]
    runner = quiet_before_q4(bot)
    await runner.run_due(Q4 + timedelta(seconds=10))
    assert [chat for chat, _ in bot.publisher.sent] == [NEW_CHAT]
    assert bot.store.chat_migrations() == {TEAM_CHAT: NEW_CHAT}
    [entry] = bot.log(Q4_KEY)
    assert (entry["status"], entry["chat_id"]) == ("sent", NEW_CHAT)


async def test_telegram_answer_with_migrate_to_chat_id_is_followed_by_the_runner(
        bot: Bot) -> None:
    fake = FakeTelegramBot(ChatMigrated(int(NEW_CHAT)))
    bot.publisher = cast(FakePublisher, telegram_publisher(fake))
    await quiet_before_q4(bot).run_due(Q4 + timedelta(seconds=10))
    assert [chat for chat, _, _ in fake.calls] == [int(TEAM_CHAT), int(NEW_CHAT)]
    assert bot.store.chat_migrations() == {TEAM_CHAT: NEW_CHAT}
    assert bot.log(Q4_KEY)[0]["status"] == "sent"


async def test_the_rest_of_a_post_follows_a_recorded_move(bot: Bot) -> None:
    bot.publisher = RefusingPublisher(300, refuse=lambda call: call == 2)
    runner = quiet_before_q4(bot)
    await runner.run_due(Q4 + timedelta(seconds=10))
    bot.store.record_migration(TEAM_CHAT, NEW_CHAT, Q4)  # e.g. seen in an update meanwhile
    await runner.run_due(Q4 + timedelta(minutes=5))
    chats = [chat for chat, _ in bot.publisher.sent]
    assert chats[0] == TEAM_CHAT and set(chats[1:]) == {NEW_CHAT}


# -- §6 clock jumps ---------------------------------------------------------------------

REAL = local(2026, 11, 20, 12)  # Friday; the next weeks hold jour fixes and a reminder


async def test_a_clock_40_days_ahead_for_one_start_consumes_no_post(bot: Bot) -> None:
    bot.store.set_last_post_check(REAL - timedelta(minutes=5))
    wrong = REAL + timedelta(days=40)
    bot.restart(wrong)
    runner = bot.runner(up_since=wrong)
    await check_every_five_minutes(runner, wrong, 6)
    assert bot.publisher.calls == 0 and bot.store.post_log() == []
    assert bot.store.last_post_check() == REAL - timedelta(minutes=5)
    [notice] = runner.take_notices()
    assert "Uhr" in notice and "gesprungen" in notice and "\n" not in notice
    # the next start has the right time: the posts of the next weeks come when due
    bot.restart(REAL)
    runner = bot.runner(up_since=REAL)
    await runner.run_due(REAL)
    for due in (local(2026, 11, 24, 9), local(2026, 12, 1, 9),  # jour fixes at 10:00
                local(2026, 12, 3, 8)):  # M3.3 (due 31.12.2026): 28 days before
        await runner.run_due(due)
    statuses = {e["key"]: (e["status"], e["late"]) for e in bot.store.post_log()}
    assert statuses == {"meeting:jour-fixe:2026-11-24T10:00:00": ("sent", False),
                        "meeting:jour-fixe:2026-12-01T10:00:00": ("sent", False),
                        "milestone:M3.3:28": ("sent", False)}


async def test_a_real_long_outage_is_caught_up_after_the_clock_ran_on_for_an_hour(
        bot: Bot) -> None:
    bot.store.set_last_post_check(REAL)
    back = REAL + timedelta(days=40)  # 30.12.2026: M3.3 is due tomorrow
    bot.restart(back)
    runner = bot.runner(up_since=back)
    await check_every_five_minutes(runner, back, 12)  # 55 minutes
    assert bot.store.post_log() == []
    await runner.run_due(back + timedelta(hours=1))
    log = {e["key"]: e["status"] for e in bot.store.post_log()}
    assert log["milestone:M3.3:28"] == "sent" and log["milestone:M3.3:7"] == "sent"
    assert log["meeting:jour-fixe:2026-11-24T10:00:00"] == "skipped"
    assert all(LATE in text for text in bot.texts)
    assert bot.store.last_post_check() == back + timedelta(hours=1)
    jumped, caught_up = runner.take_notices()
    assert "gesprungen" in jumped and "Veraltetes" in caught_up


async def test_a_clock_gone_back_decides_nothing_and_keeps_the_last_check(bot: Bot) -> None:
    runner = quiet_before_q4(bot)
    last = bot.store.last_post_check()
    assert await runner.run_due(Q4 - timedelta(days=3)) == []
    assert bot.store.last_post_check() == last and bot.store.post_log() == []
    await runner.run_due(Q4 + timedelta(seconds=10))
    assert copies(bot, "Q4 2026") == 1 and LATE not in bot.texts[0]


# -- §6 values that cannot work --------------------------------------------------------


def with_programme(**changes: Any) -> Plan:
    return replace(PLAN, programme=replace(PLAN.programme, **changes))


def with_summary_before(before: timedelta) -> Plan:
    return replace(PLAN, meetings=tuple(replace(m, summary_before=before)
                                        for m in PLAN.meetings))


ABSURD = [
    with_programme(reminder_days=(999_999_999, 7)),
    with_programme(reminder_days=(10**12,)),
    with_programme(overdue_every_days=999_999_999),
    with_programme(overdue_every_days=10**12),
    with_programme(overdue_max=10**18),
    with_programme(overdue_max=10**9, overdue_every_days=1),
    with_summary_before(timedelta(days=999_999_999)),
    with_summary_before(timedelta(days=3000)),
]


@pytest.mark.parametrize("plan", ABSURD)
def test_absurd_plan_numbers_leave_posts_out_instead_of_failing(plan: Plan) -> None:
    posts = planned_posts(plan, [], TZ, local(2025, 1, 1), local(2027, 12, 31))
    assert "quarterly:Q4 2026" in {p.key for p in posts}
    assert len(milestone_posts(plan, TZ, [])) < 30_000  # no series without end
    assert next_post_time(plan, [], TZ, local(2026, 6, 1)) is not None
    assert first_look_back(plan) <= timedelta(days=400)
    meeting_posts(plan, TZ, local(2026, 10, 1), local(2026, 10, 31))


@pytest.mark.parametrize("plan", ABSURD[:3] + ABSURD[6:7])
async def test_the_runner_copes_with_absurd_plan_numbers(tmp_path: Path, plan: Plan) -> None:
    b = Bot(tmp_path, plan)
    try:
        now = Q4 + timedelta(minutes=2)
        await b.runner(up_since=now).run_due(now)  # the first start looks back
        assert copies(b, "Q4 2026") == 1
    finally:
        b.store.close()


def test_the_end_of_the_calendar_is_no_error() -> None:
    end = datetime(9999, 12, 31, 23, 0, tzinfo=TZ)
    assert next_post_time(PLAN, [], TZ, end) is None
    assert planned_posts(PLAN, [], TZ, end - timedelta(days=30), end) == []
    # (the last milestones are due on the programme's last day: they get no overdue notice)
    assert any(p.kind == "overdue" for p in milestone_posts(
        with_programme(overdue_every_days=1), TZ, [], until=date.max))


def test_schedule_listing_over_the_end_of_the_calendar_is_a_usage_error(bot: Bot) -> None:
    ctx = Context(Settings(team_chat_id=TEAM_CHAT, timezone=TZ, data_dir=bot.data_dir), PLAN,
                  bot.store)
    with pytest.raises(UsageError) as err:
        schedule_text(ctx, local(2026, 1, 1), 999_999_999)
    assert "9999" in str(err.value)
