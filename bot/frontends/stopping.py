"""Stopping a front-end's loop: SIGINT/SIGTERM set an event, and waits end when it is set."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class Stopping(Exception):
    """SIGTERM or SIGINT arrived while waiting."""


def stop_on_signals() -> asyncio.Event:
    """An event that SIGINT or SIGTERM sets (in the running loop)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    return stopping


async def unless_stopping(call: Awaitable[T], stopping: asyncio.Event) -> T:
    """Await `call`; raise Stopping (and cancel it) when `stopping` is set first."""
    task = asyncio.ensure_future(call)
    waiter = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise Stopping
    return task.result()


async def pause(seconds: float, stopping: asyncio.Event) -> None:
    """Wait `seconds`; raise Stopping as soon as `stopping` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    if stopping.is_set():
        raise Stopping
