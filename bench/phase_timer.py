"""`python -m bot` with timestamps around the steps of answering a message (for
`bench/phases.py`).

Wraps a few functions of python-telegram-bot, apbot and the OS in the running process
and writes, at exit, each step's start and end on `time.perf_counter()` — the system's
monotonic clock, the one the fake Bot API stamps its requests with — as JSON to the
file named by `APBOT_PHASES_OUT`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import json
import os
import runpy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MARKS: list[tuple[str, float]] = []


def _timed(owner: Any, attribute: str, name: str,
           suffix: Callable[[tuple[Any, ...], dict[str, Any]], str] | None = None) -> None:
    original = getattr(owner, attribute)
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            label = name + (suffix(args, kwargs) if suffix else "")
            MARKS.append((label + ">", time.perf_counter()))
            try:
                return await original(*args, **kwargs)
            finally:
                MARKS.append((label + "<", time.perf_counter()))
        setattr(owner, attribute, timed_async)
        return

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        MARKS.append((name + ">", time.perf_counter()))
        try:
            return original(*args, **kwargs)
        finally:
            MARKS.append((name + "<", time.perf_counter()))
    setattr(owner, attribute, timed)


def _endpoint(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    url = kwargs.get("url") or args[1]
    return ":" + str(url).rsplit("/", 1)[-1]


def main() -> None:
    from telegram.request import HTTPXRequest

    import bot.core
    import bot.frontends.telegram.polling as polling

    _timed(HTTPXRequest, "do_request", "http", _endpoint)  # (the bot before transport.py)
    with contextlib.suppress(ImportError):
        from bot.frontends.telegram.transport import AiohttpRequest
        _timed(AiohttpRequest, "do_request", "http", _endpoint)
    _timed(polling, "handle", "handle")
    _timed(bot.core.Core, "handle", "core")
    _timed(os, "fsync", "fsync")
    out = os.environ["APBOT_PHASES_OUT"]
    atexit.register(lambda: Path(out).write_text(json.dumps(MARKS)))
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
