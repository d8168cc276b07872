"""Sending to Telegram: its limits as sliding windows, the outbox that decides whether a
reply goes at once (from the handler) or waits in the background, and button data."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.frontends.telegram.limits import SlidingWindow, TelegramLimits
from bot.frontends.telegram.sending import Attempt, ButtonData, Outbox
from workflows.store import Store

TEAM, OTHER_GROUP, PRIVATE = -100123, -100456, 1001


# -- the windows ----------------------------------------------------------------------


async def test_a_window_lets_max_rate_through_then_waits_for_the_oldest_to_expire() -> None:
    window = SlidingWindow(3, 0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(3):
        assert window.ready()
        await window.acquire()
    assert loop.time() - start < 0.05
    assert not window.ready()
    await window.acquire()
    assert loop.time() - start >= 0.19
    # The first three have expired by now; the fourth holds one of three places.
    assert window.ready(2) and not window.ready(3)


async def test_a_window_serves_waiters_in_order_and_nobody_overtakes() -> None:
    window = SlidingWindow(1, 0.05)
    order: list[int] = []

    async def take(n: int) -> None:
        await window.acquire()
        order.append(n)

    await window.acquire()
    tasks = [asyncio.create_task(take(n)) for n in range(4)]
    await asyncio.sleep(0)
    await asyncio.sleep(0.06)  # the first slot has expired, but a waiter holds the queue
    assert not window.ready(), "someone is waiting: a newcomer must queue behind"
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]


async def test_limits_keep_20_a_minute_per_group_and_30_a_second_overall() -> None:
    limits = TelegramLimits(overall_rate=30, overall_period=1.0, group_rate=20,
                            group_period=60.0)
    calls: list[dict[str, Any]] = []

    async def call(data: dict[str, Any]) -> bool:
        calls.append(data)
        return True

    for _ in range(20):
        await limits.process_request(call, ({"chat_id": TEAM},), {}, "sendMessage",
                                     {"chat_id": TEAM}, None)
    assert not limits.ready(TEAM), "the group's minute is used up"
    assert limits.ready(OTHER_GROUP), "each group has its own minute"
    assert limits.ready(PRIVATE, 10) and not limits.ready(PRIVATE, 11), "30 a second overall"
    assert limits.ready(str(TEAM)) is False, "a group id given as text is the same group"
    # Requests without a chat (answering a button, getUpdates) are not limited.
    assert await limits.process_request(call, ({},), {}, "answerCallbackQuery", {}, None)
    assert len(calls) == 21


async def test_limits_forget_idle_group_windows_beyond_the_kept_number() -> None:
    limits = TelegramLimits(group_rate=1, group_period=0.01)
    limits.GROUPS_KEPT = 5

    async def call() -> bool:
        return True

    for group in range(-1, -8, -1):
        await limits.process_request(call, (), {}, "sendMessage", {"chat_id": group}, None)
        await asyncio.sleep(0.02)
    assert len(limits._groups) <= 5


# -- the outbox --------------------------------------------------------------------------


class FakeLimits:
    """Limits that say what the test wants; they never wait themselves."""

    def __init__(self) -> None:
        self.open = True

    def ready(self, chat_id: str, amount: int = 1) -> bool:
        return self.open


class Channel:
    """Stands in for the Bot API: records what arrived; can fail the next tries."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.tries: list[str] = []
        self.failures: list[Exception] = []

    def message(self, text: str) -> Attempt:
        async def attempt() -> str:
            self.tries.append(text)
            if self.failures:
                raise self.failures.pop(0)
            self.arrived.append(text)
            return text
        return attempt


@pytest.fixture
def limits() -> FakeLimits:
    return FakeLimits()


@pytest.fixture
def outbox(limits: FakeLimits) -> Outbox:
    return Outbox(limits, first_retry_delay=0.01)


async def test_a_reply_that_may_go_is_sent_from_the_handler_itself(outbox: Outbox) -> None:
    channel = Channel()
    await outbox.send(TEAM, [channel.message("eins"), channel.message("zwei")])
    assert channel.arrived == ["eins", "zwei"], "sent before send() returns"
    assert outbox.waiting == 0, "no background task for the common case"


async def test_nothing_to_send_starts_nothing(outbox: Outbox, limits: FakeLimits) -> None:
    limits.open = False
    await outbox.send(TEAM, [])
    assert outbox.waiting == 0


async def test_a_reply_that_would_wait_goes_to_the_background(
    outbox: Outbox, limits: FakeLimits,
) -> None:
    channel = Channel()
    limits.open = False
    await outbox.send(TEAM, [channel.message("wartet")])
    assert channel.arrived == [] and outbox.waiting == 1, "the handler is free at once"
    await outbox.flush()
    assert channel.arrived == ["wartet"]


async def test_replies_to_one_chat_keep_their_order(outbox: Outbox, limits: FakeLimits) -> None:
    channel = Channel()
    limits.open = False
    await outbox.send(TEAM, [channel.message("erste")])
    limits.open = True  # the limit has room again, but "erste" is still waiting
    await outbox.send(TEAM, [channel.message("zweite")])
    await outbox.send(PRIVATE, [channel.message("anderer Chat")])
    assert channel.arrived == ["anderer Chat"], "another chat does not wait for this one"
    await outbox.flush()
    assert channel.arrived == ["anderer Chat", "erste", "zweite"]
    await outbox.send(TEAM, [channel.message("danach")])
    assert channel.arrived[-1] == "danach" and outbox.waiting == 0


@pytest.mark.parametrize("failure", [NetworkError("Bad Gateway"), TimedOut()])
async def test_a_failed_first_try_is_retried_in_the_background(
    outbox: Outbox, failure: Exception, caplog: pytest.LogCaptureFixture,
) -> None:
    channel = Channel()
    channel.failures = [failure, NetworkError("still down")]
    with caplog.at_level(logging.WARNING):
        await outbox.send(TEAM, [channel.message("eins"), channel.message("zwei")])
    assert channel.arrived == [] and outbox.waiting == 1
    await outbox.flush()
    assert channel.arrived == ["eins", "zwei"]
    assert channel.tries == ["eins", "eins", "eins", "zwei"]
    assert "trying again in the background" in caplog.text


async def test_a_rejected_reply_is_raised_to_the_handler(outbox: Outbox) -> None:
    channel = Channel()
    channel.failures = [BadRequest("Can't parse entities")]
    with pytest.raises(BadRequest):
        await outbox.send(TEAM, [channel.message("kaputt")])
    assert outbox.waiting == 0


async def test_a_background_job_that_fails_is_logged_and_the_next_one_still_goes(
    outbox: Outbox, caplog: pytest.LogCaptureFixture,
) -> None:
    channel = Channel()

    async def broken() -> None:
        raise RuntimeError("cannot draw")

    outbox.later(TEAM, [broken, channel.message("danach")])
    with caplog.at_level(logging.ERROR):
        await outbox.flush()
    assert channel.arrived == ["danach"]
    assert "could not be sent" in caplog.text


async def test_closing_drops_what_still_waits(
    outbox: Outbox, limits: FakeLimits, caplog: pytest.LogCaptureFixture,
) -> None:
    gate = asyncio.Event()

    async def stuck() -> None:
        await gate.wait()

    outbox.later(TEAM, [stuck])
    outbox.later(TEAM, [stuck])
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING):
        await outbox.close()
    assert outbox.waiting == 0
    assert "2 waiting reply deliveries are sent at the next start" in caplog.text


async def test_closing_gives_what_waits_a_grace_period(outbox: Outbox) -> None:
    delivered: list[str] = []

    async def soon() -> None:
        await asyncio.sleep(0.01)
        delivered.append("soon")

    async def never() -> None:
        await asyncio.Event().wait()

    outbox.later(TEAM, [soon])
    outbox.later(-1002, [never])
    await outbox.close(grace=0.5)
    assert delivered == ["soon"]
    assert outbox.waiting == 0


async def test_then_runs_after_what_waits_for_the_chat(outbox: Outbox) -> None:
    order: list[str] = []
    gate = asyncio.Event()

    async def first() -> None:
        await gate.wait()
        order.append("reply")

    outbox.then(TEAM, lambda: order.append("nothing waits: at once"))
    outbox.later(TEAM, [first])
    outbox.then(TEAM, lambda: order.append("done"))
    outbox.then(-1002, lambda: order.append("other chat: at once"))
    gate.set()
    await outbox.flush()
    assert order == ["nothing waits: at once", "other chat: at once", "reply", "done"]


# -- button data ---------------------------------------------------------------------------


def test_button_data_within_64_bytes_travels_as_it_is_and_longer_as_a_kept_key(
        tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    store = Store.open(tmp_path, now)
    buttons = ButtonData(store, lambda: now)
    assert buttons.pack("undo:1234") == "undo:1234" == buttons.unpack("undo:1234")
    long = "undo:$" + "ä" * 40  # 86 bytes in UTF-8
    key = buttons.pack(long)
    assert key.startswith("#") and len(key.encode()) <= 64
    assert buttons.pack(long) == key  # the same data, the same key
    store.close()
    again = Store.open(tmp_path, now)  # after a restart the button still works
    assert ButtonData(again, lambda: now).unpack(key) == long
    assert ButtonData(again, lambda: now).unpack("#unknown") is None
    again.close()
