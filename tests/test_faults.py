"""End-to-end under faults: kill -9, a full disk, a flaky Bot API, 200 messages in a second.

The real `python -m bot` runs against the local fake Bot API (tests/bot_process.py). The
database is checked the way apbot itself opens it, `Store.open`: read-only beside the
running bot, with its lock once the bot is gone. Every wait has a deadline.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import SORRY
from bot.reports import UNDO
from tests.bot_process import ADMIN_ID, BotProcess
from tests.fake_bot_api import DEFAULT_GROUP_ID, Call, FakeBotAPI, JSONDict
from tests.test_e2e_posts import (
    MEETING,
    TITLE,
    plan_with_meeting,
    seconds_before_summary,
    summaries,
)
from workflows.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
BERLIN = ZoneInfo("Europe/Berlin")
CONFIRMED = "✅ gespeichert:"
WRITE_FAILED = "konnte ich gerade nicht speichern"
ADMINS = (2001, 2002, 2003, 2004, 2005)
ADMIN_ENV = {"APBOT_ADMIN_IDS": ",".join(str(a) for a in ADMINS)}
Key = tuple[int, int]  # (chat id, message id): what apbot never records twice


# --------------------------------------------------------------------------- helpers


def report_text(i: int) -> str:
    return f"AP{i % 13 + 1}: Einladungen Runde {i} verschickt, {i % 101} %"


def key_of(update: JSONDict) -> Key:
    message = update["message"]
    return int(message["chat"]["id"]), int(message["message_id"])


def is_confirmation(call: Call) -> bool:
    return call.ok and str(call.params.get("text", "")).startswith(CONFIRMED)


def confirmed_key(call: Call) -> Key | None:
    """The report a successful confirmation belongs to, read from its "Rückgängig" button.

    Private chats get no quote, so the button (`undo:<message id>`) is the one link.
    """
    if not is_confirmation(call):
        return None
    for row in call.params.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            kind, _, message_id = str(button.get("callback_data", "")).partition(":")
            if kind == UNDO:
                return int(call.params["chat_id"]), int(message_id)
    return None


def confirmations(api: FakeBotAPI) -> Counter[Key]:
    """How many successful confirmations each report got."""
    keys = (confirmed_key(c) for c in api.calls("sendMessage"))
    return Counter(k for k in keys if k is not None)


def stored(data_dir: Path, *, read_only: bool = False) -> Counter[Key]:
    """How many updates the database holds per message (read-only works beside the bot)."""
    store = Store.open(data_dir, datetime.now(BERLIN), read_only=read_only)
    try:
        # The store keeps ids as text; the fake Bot API numbers them as Telegram does.
        return Counter((int(u.chat_id), int(u.message_id or 0)) for u in store.updates())
    finally:
        store.close()


def wait_until(done: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    """Poll `done` (e.g. the database of another process) until it holds, or fail."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what()}")
        time.sleep(0.1)


class Stream(threading.Thread):
    """Pushes reports from the admins' private chats at a steady pace, in the background."""

    def __init__(self, api: FakeBotAPI, count: int, interval: float) -> None:
        super().__init__(name="report-stream", daemon=True)
        self.api, self.count, self.interval = api, count, interval
        self.pushed: list[Key] = []
        self._halt = threading.Event()

    def run(self) -> None:
        for i in range(self.count):
            if self._halt.is_set():
                return
            user = ADMINS[i % len(ADMINS)]
            update = self.api.push_message(report_text(i), chat_type="private", user_id=user,
                                           first_name=f"Admin{user}")
            self.pushed.append(key_of(update))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def limit_file_size(limit: int) -> Callable[[], None]:
    """A preexec_fn: no file of the process may grow beyond `limit` bytes (a full disk).

    With SIGXFSZ ignored, the write that would cross the limit fails with EFBIG instead
    of killing the process.
    """

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


# --------------------------------------------------------------------------- kill -9


def test_kill_9_while_recording_keeps_every_confirmed_report_once(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        bot = BotProcess(api, data, log, **ADMIN_ENV)
        stream = Stream(api, 150, interval=0.01)  # about 1.5 s: faster than replies may go
        try:
            bot.start()
            stream.start()
            api.wait_for("sendMessage", count=50, timeout=20, predicate=is_confirmation)
            bot.kill()
            confirmed = confirmations(api)
            assert len(confirmed) < 150, "the kill came after everything was confirmed"

            # The database opens after the kill and holds every confirmed report, once.
            after_kill = stored(data)
            assert [k for k in confirmed if after_kill[k] != 1] == []
            assert [k for k, n in after_kill.items() if n > 1] == []

            bot.start()  # same data dir; the fake still holds what was not acknowledged
            stream.join(20)
            assert len(stream.pushed) == 150
            wait_until(lambda: not api.pending_updates()
                       and set(stored(data, read_only=True)) >= set(stream.pushed)
                       and set(confirmations(api)) >= set(stream.pushed), 30,
                       lambda: f"{len(stored(data, read_only=True))} of 150 recorded, "
                               f"{len(confirmations(api))} confirmed, "
                               f"{len(api.pending_updates())} updates pending; "
                               f"bot log:\n{bot.log()[-3000:]}")
        finally:
            try:
                stream.stop()
            finally:
                bot.stop()  # never leave a bot process behind

    final = stored(data)
    assert final == Counter(stream.pushed), "each of the 150 reports exactly once, nothing else"
    every_confirmation = confirmations(api)
    assert set(every_confirmation) == set(stream.pushed), "every report confirmed"
    # The kill may fall between Telegram accepting a confirmation and apbot hearing so:
    # that one is sent again after the restart. Replies to one chat go one at a time, so
    # at most one per chat was in flight; nothing else is repeated.
    repeated = [k for k, n in every_confirmation.items() if n > 1]
    assert all(every_confirmation[k] == 2 for k in repeated), repeated
    assert set(repeated) <= set(confirmed), "only what had been sent before the kill"
    assert len({chat for chat, _ in repeated}) == len(repeated) <= len(ADMINS), repeated


# --------------------------------------------------------------------------- full disk


def test_full_disk_refuses_the_report_keeps_the_database_and_the_bot(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    limit = 32 * 1024  # the log chunk passes this after about ten 3,000-character reports
    filler = ("Protokoll der Sitzung mit allen Beteiligten, Ergebnisse siehe Anlage. " * 50)
    sent: list[JSONDict] = []
    replies: list[str] = []
    with FakeBotAPI() as api, BotProcess(api, data, log,
                                         preexec_fn=limit_file_size(limit)) as bot:
        for i in range(14):
            text = f"AP3: Bericht {i} abgestimmt, {i * 5} %. {filler}"[:3000]
            sent.append(api.push_message(text, chat_type="private", user_id=ADMIN_ID))
            reply = api.wait_for("sendMessage", count=len(sent), timeout=10,
                                 predicate=lambda c: c.ok)[-1]
            replies.append(str(reply.params["text"]))
        api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
        status = api.wait_for_text("Bildungskonferenzen", timeout=10)
        assert bot.proc is not None and bot.proc.poll() is None, "the bot is still running"
        assert bot.stop() == 0

    saved = [s for s, r in zip(sent, replies, strict=True) if r.startswith(CONFIRMED)]
    refused = [s for s, r in zip(sent, replies, strict=True) if WRITE_FAILED in r]
    assert len(saved) + len(refused) == len(sent), replies
    assert len(saved) >= 3 and len(refused) >= 2, replies
    assert sent[: len(saved)] == saved, "once the disk is full, every later write fails"
    newest = f"Bericht {len(saved) - 1} abgestimmt"
    assert newest in status["text"]  # what was saved is still read
    assert not any(f"Bericht {i} abgestimmt" in status["text"] for i in range(len(saved), 14))

    records = stored(data)  # every file still parses
    assert records == Counter(key_of(s) for s in saved)
    assert list(data.rglob("*.tmp")) == [], "no half-written file is left behind"


# --------------------------------------------------------------------------- flaky Bot API


def test_429_502_and_dropped_connections_lose_and_double_nothing(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    pushed: list[Key] = []

    def push(count: int) -> None:
        for _ in range(count):
            i = len(pushed)
            user = ADMINS[i % len(ADMINS)]
            pushed.append(key_of(api.push_message(report_text(i), chat_type="private",
                                                  user_id=user)))

    def all_confirmed() -> None:
        wait_until(lambda: set(confirmations(api)) >= set(pushed), 30,
                   lambda: f"confirmed {len(confirmations(api))} of {len(pushed)}; "
                           f"bot log:\n{bot.log()[-3000:]}")

    def while_failing(method: str, status: int, times: int, fault: Callable[[], None]) -> None:
        """Reports before the fault, the fault, reports while apbot is recovering from it."""
        push(3)
        fault()
        api.wait_for(method, count=times, timeout=10, predicate=lambda c: c.status == status)
        push(3)
        all_confirmed()

    # A short long poll, so that a scripted getUpdates fault comes up soon.
    with FakeBotAPI(max_poll_wait=0.5) as api, BotProcess(api, data, log, **ADMIN_ENV) as bot:
        while_failing("getUpdates", 429, 1,
                      lambda: api.fail_next("getUpdates", error_code=429, retry_after=1))
        while_failing("getUpdates", 502, 2,
                      lambda: api.fail_next("getUpdates", error_code=502, times=2))
        while_failing("getUpdates", 0, 2, lambda: api.drop_connections("getUpdates", times=2))
        while_failing("sendMessage", 429, 2,
                      lambda: api.fail_next("sendMessage", error_code=429, retry_after=1,
                                            times=2))
        api.wait_until_delivered()

    assert len(pushed) == 24
    assert stored(data) == Counter(pushed), "each report recorded once"
    assert confirmations(api) == Counter(pushed), "each report confirmed once, none twice"
    assert [m for m in api.sent_messages() if m.get("text") == SORRY] == []


@pytest.mark.parametrize("fault", ["502", "drop"])
def test_confirmation_survives_a_failed_send(tmp_path: Path, fault: str) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api, BotProcess(api, data, log) as bot:
        if fault == "502":
            api.fail_next("sendMessage", error_code=502)
        else:
            api.drop_connections("sendMessage")
        report = api.push_message("AP3: Einladungen verschickt, 60 %", chat_type="private",
                                  user_id=ADMIN_ID)
        wait_until(lambda: stored(data, read_only=True)[key_of(report)] == 1, 10,
                   lambda: f"report not recorded; bot log:\n{bot.log()[-3000:]}")
        # The first message that gets through must be the confirmation, not an apology.
        first = api.wait_for("sendMessage", timeout=15, predicate=lambda c: c.ok)[0]
        assert str(first.params["text"]).startswith(CONFIRMED), first.params["text"]
        assert confirmations(api) == Counter([key_of(report)])
    assert stored(data) == Counter([key_of(report)])


def test_summary_is_posted_once_despite_502_answers(tmp_path: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    start = seconds_before_summary(2)
    with FakeBotAPI() as api:
        # Set before the start: the summary is the group's first message, however slowly
        # the bot starts.
        api.fail_next("sendMessage", error_code=502, times=2, chat_id=DEFAULT_GROUP_ID)
        with BotProcess(api, data, log, now=start, APBOT_PLAN=str(plan)):
            api.wait_for("sendMessage", timeout=30,
                         predicate=lambda c: c.ok and TITLE in str(c.params.get("text", "")))
            # Room for a duplicate to show up: one more round trip through the bot.
            api.push_message("/status AP3")
            api.wait_for_text("Bildungskonferenzen", chat_id=DEFAULT_GROUP_ID, timeout=10)
    failed = [c for c in api.calls("sendMessage")
              if c.status == 502 and TITLE in str(c.params.get("text", ""))]
    assert len(failed) == 2, "both 502 answers hit the summary"
    assert len(summaries(api)) == 1
    store = Store.open(data, datetime.now(BERLIN))
    try:
        logged = [p["status"] for p in store.post_log()
                  if str(p["key"]).startswith("meeting:probe")]
    finally:
        store.close()
    assert logged == ["sent"]


# --------------------------------------------------------------------------- 200 in a second


@dataclass(frozen=True)
class Burst:
    pushed: list[Key]
    push_seconds: float
    stored: Counter[Key]
    group_sends: list[Call]  # every sendMessage attempt to the group while observed
    observed_seconds: float
    status: str  # /status AP3 in an admin's private chat right after the burst
    stop_seconds: float | None  # None: still running 10 s after SIGTERM (then kill -9)
    stored_after_stop: Counter[Key]


OBSERVE = 20.0  # seconds of replies looked at; the rest are not awaited
STOP_WAIT = 10.0


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Burst]:
    """200 reports from 10 members into the team chat within one second, run once."""
    tmp = tmp_path_factory.mktemp("burst")
    data = tmp / "data"
    with FakeBotAPI(can_read_all_group_messages=True) as api:
        bot = BotProcess(api, data, tmp / "bot.log")
        try:
            bot.start()
            second = int(api.now())  # Telegram dates messages in whole seconds
            started = time.monotonic()
            pushed = [key_of(api.push_message(report_text(i), user_id=3001 + i % 10,
                                              first_name=f"Mitglied{i % 10}", date=second))
                      for i in range(200)]
            push_seconds = time.monotonic() - started
            wait_until(lambda: len(stored(data, read_only=True)) >= 200, 30,
                       lambda: f"{len(stored(data, read_only=True))} of 200 recorded; "
                               f"bot log:\n{bot.log()[-3000:]}")
            records = stored(data, read_only=True)
            # Private chats of admins are not held up by the group's rate limit.
            api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
            status = str(api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)["text"])

            first = api.wait_for("sendMessage", timeout=10,
                                 predicate=lambda c: c.params.get("chat_id") == DEFAULT_GROUP_ID)
            time.sleep(max(0.0, first[0].time + OBSERVE - time.time()))  # the limit is real time
            group_sends = [c for c in api.calls("sendMessage")
                           if c.params.get("chat_id") == DEFAULT_GROUP_ID]
            observed = time.time() - first[0].time

            assert bot.proc is not None
            stopping = time.monotonic()
            bot.proc.send_signal(signal.SIGTERM)  # the remaining replies are not awaited
            try:
                bot.proc.wait(STOP_WAIT)
                stop_seconds: float | None = time.monotonic() - stopping
            except subprocess.TimeoutExpired:
                stop_seconds = None
        finally:
            bot.kill()
    yield Burst(pushed, push_seconds, records, group_sends, observed, status, stop_seconds,
                stored(data))


def test_200_messages_in_a_second_are_each_recorded_once(burst: Burst) -> None:
    assert burst.push_seconds < 1
    assert burst.stored == Counter(burst.pushed)
    assert burst.stored_after_stop == Counter(burst.pushed)
    replies = [c for c in burst.group_sends if c.ok]
    assert replies, "some confirmations arrived"
    assert all(is_confirmation(c) for c in replies)
    confirmed = Counter(confirmed_key(c) for c in replies)
    assert [k for k, n in confirmed.items() if n > 1] == []
    assert set(confirmed) <= set(burst.pushed)
    assert "Letzte Meldungen" in burst.status


def test_200_messages_in_a_second_replies_keep_the_group_rate_limit(burst: Burst) -> None:
    assert burst.observed_seconds >= OBSERVE - 1
    times = sorted(c.time for c in burst.group_sends)
    busiest = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    assert busiest <= 20, f"{busiest} sends to the group within 60 s (Telegram allows 20)"


def test_200_messages_in_a_second_status_shows_the_newest_report(burst: Burst) -> None:
    newest_ap3 = max(i for i in range(200) if report_text(i).startswith("AP3:"))
    stand = next(line for line in burst.status.splitlines()
                 if line.startswith("Gemeldeter Stand"))
    assert f"· {newest_ap3 % 101} %" in stand, stand


def test_200_messages_in_a_second_then_sigterm_stops_promptly(burst: Burst) -> None:
    assert burst.stop_seconds is not None, f"still running {STOP_WAIT:.0f} s after SIGTERM"
