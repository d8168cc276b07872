"""Where the time of one answer goes: the real bot process, timed step by step.

Runs `python -m bot` (through `bench/phase_timer.py`, which stamps a few steps) against
the local fake Bot API with 1k stored updates, sends `--count` messages of one kind one
at a time, and prints, per step, the median over the messages:

    python -m bench.phases                   # 150 progress updates
    python -m bench.phases --kind status     # or 150 /status

The steps, all on the system's monotonic clock: the fake hands the update out → apbot
has read the getUpdates answer → it begins to handle the update (python-telegram-bot
reads it, the inbox keeps it) → the core begins → the core has answered (of which the
fsyncs) → the sendMessage request begins → the fake has read it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.history import MEMBERS
from bench.run import (
    FULL,
    KINDS,
    REPLY_TIMEOUT,
    SEND_INTERVAL,
    Process,
    Session,
    converse,
    messages,
)
from tests.fake_bot_api import FakeBotAPI

STEPS = (
    ("update handed out → getUpdates answer read", "delivered", "http:getUpdates<"),
    ("→ handling begins (reading it, the inbox)", "http:getUpdates<", "handle>"),
    ("→ the core begins", "handle>", "core>"),
    ("the core (its answer, the store)", "core>", "core<"),
    ("→ the sendMessage request begins", "core<", "http:sendMessage>"),
    ("→ the fake has read the request", "http:sendMessage>", "received"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phases",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("progress", "status"), default="progress")
    parser.add_argument("--count", type=int, default=150)
    args = parser.parse_args(argv)
    script = [m for m in messages(args.count * 2) if m.kind == args.kind][: args.count]
    with tempfile.TemporaryDirectory(prefix="apbot-phases-") as tmp:
        work = Path(tmp)
        data = Session(FULL, work).fresh_dir(1000)
        out = work / "marks.json"
        with FakeBotAPI() as api:
            bot = Process("bench.phase_timer", api, data, work / "bot.log")
            bot.env["APBOT_PHASES_OUT"] = str(out)
            bot.start()
            try:
                converse(api, messages(4, offset=10_000))  # warm-up
                answers = []  # (handed out, reply read) per message, at the fake
                for i, message in enumerate(script):
                    time.sleep(SEND_INTERVAL)
                    member = MEMBERS[i % len(MEMBERS)]
                    update = api.push_message(message.text, chat_type="private",
                                              user_id=int(member.id), first_name=member.name)
                    reply = api.wait_for_reply(update, timeout=REPLY_TIMEOUT)
                    answers.append((api.delivered_at(update["update_id"]), reply.received))
            finally:
                bot.stop()
        marks = json.loads(out.read_text())
    print(report(args.kind, answers, marks))
    return 0


def report(kind: str, answers: list[tuple[float, float]],
           marks: list[tuple[str, float]]) -> str:
    """The median of each step over the messages, in a Markdown table."""
    steps: dict[str, list[float]] = {name: [] for name, _, _ in STEPS}
    fsyncs: list[float] = []
    for delivered, received in answers:
        window = [(label, t) for label, t in marks if delivered <= t <= received]
        at = {"delivered": delivered, "received": received}
        for label, t in window:
            at.setdefault(label, t)
        if not all(first in at and last in at for _, first, last in STEPS):
            continue  # (a message answered without the steps, e.g. from the outbox)
        for name, first, last in STEPS:
            steps[name].append(at[last] - at[first])
        starts = [t for label, t in window if label == "fsync>"]
        ends = [t for label, t in window if label == "fsync<"]
        fsyncs.append(sum(end - start for start, end in zip(starts, ends, strict=False)))
    counted = len(fsyncs)
    total = statistics.median([received - delivered for delivered, received in answers])
    lines = [f"{KINDS[kind]}: {len(answers)} messages, {counted} with every step; "
             f"median answer {total * 1000:.2f} ms", "", "| Step | Median |", "|---|---|"]
    for name, values in steps.items():
        lines.append(f"| {name} | {statistics.median(values) * 1000:.2f} ms |")
    lines.append(f"| (of the core: fsync) | {statistics.median(fsyncs) * 1000:.2f} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
