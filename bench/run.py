"""apbot's benchmarks: reply latency, growth with history, start-up and memory.

Everything runs the real `python -m bot` process (and, as the latency baseline, a bare
python-telegram-bot echo bot, `bench/echo_bot.py`) against the local fake Bot API over
HTTP (`tests/fake_bot_api.py`). Latency is measured at the fake, on one clock: from the
moment `getUpdates` hands an update out to the moment the reply arrives at
`sendMessage`. Messages are sent one at a time (send, wait for the reply, next) and at
most 25 per second to each bot, so that neither a pre-filled queue nor the bot's own rate
limiter (30 messages per second overall) is measured.

The latency comparison runs apbot and the echo bot at the same time, each against its
own fake, and alternates between them message by message (A B A B …): whatever else runs
on the machine meanwhile hits both alike. It does so in rounds and reports, per kind of
message, the median over the rounds of the per-round ratio apbot / echo bot, with the
lowest and highest round as the spread.

    python -m bench                 # everything, about 5 minutes
    python -m bench --quick         # small counts, a smoke test (< 1 minute)
    python -m bench --only growth   # one of latency, growth, startup, chart

The report (a Markdown table) goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.history import ACTIVITIES, MEMBERS, TEAM_CHAT_ID, TZ, generate
from tests.bot_process import REPO, bot_env
from tests.fake_bot_api import FakeBotAPI

BENCHMARKS = ("latency", "growth", "startup", "chart")
SEND_INTERVAL = 0.04  # at most 25 messages a second to a bot: below its 30/s rate limiter
GROUP_LIMIT = 20  # apbot's TelegramLimits: 20 messages per minute per group
REPLY_TIMEOUT = 120.0
START_TIMEOUT = 60.0

# Targets from the issue.
LATENCY_RATIO_MAX = 1.5
RECORDING_MAX_MS = 20.0
RECORDING_GROWTH_MAX = 2.0
STATUS_MAX_MS = 20.0
STARTUP_MAX_S = 2.0
FIRST_CHART_MAX_S = 2.0
CHART_LATER_S = 3.0  # "a little after start-up": the chart asked for this long after
RSS_MAX_MB = 150.0


@dataclass(frozen=True)
class Counts:
    """How much each benchmark does."""

    rounds: int  # rounds of the latency comparison
    pairs: int  # per round: /status queries, and as many progress updates, to each bot
    warmup: int  # messages sent first after each start and not counted
    group_burst: int  # messages sent one at a time into the team group
    sizes: tuple[int, ...]  # stored updates for the growth benchmark
    growth: int  # progress updates, and as many /status, per size
    startups: int  # launches with the largest history
    startup_workload: int  # progress updates and /status in the last launch, before RSS
    charts: int  # launches for the first /zeitplan (each measures it at once and later)


FULL = Counts(rounds=5, pairs=200, warmup=4, group_burst=30, sizes=(1_000, 10_000, 50_000),
              growth=200, startups=5, startup_workload=50, charts=5)
QUICK = Counts(rounds=3, pairs=4, warmup=2, group_burst=5, sizes=(100, 500, 2_000),
               growth=10, startups=1, startup_workload=5, charts=1)


# ----------------------------------------------------------------------------- numbers


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Stats:
    """Latencies of one kind of message, in seconds."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        return percentile(self.values, 95)

    def summary(self) -> dict[str, Any]:
        if not self.values:
            return {"n": 0}
        return {"n": len(self.values), "median_ms": self.median * 1000,
                "p95_ms": self.p95 * 1000, "max_ms": max(self.values) * 1000}


def burst_summary(latencies: list[float]) -> str:
    """Replies within the group's 20 per minute, and beyond them."""
    first, rest = latencies[:GROUP_LIMIT], latencies[GROUP_LIMIT:]
    text = f"replies 1–{len(first)}: median {ms(statistics.median(first))}"
    if rest:
        text += (f"; replies {GROUP_LIMIT + 1}–{len(latencies)}: median "
                 f"{ms(statistics.median(rest))}, max {ms(max(rest))}")
    return text


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    measurement: str
    measured: str
    target: str = "–"
    ok: bool | None = None  # None: for information, no target

    @property
    def result(self) -> str:
        return "–" if self.ok is None else ("pass" if self.ok else "**FAIL**")


# ----------------------------------------------------------------------------- processes


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Process:
    """A bot process (apbot or the echo bot) against one fake Bot API."""

    def __init__(self, module: str, api: FakeBotAPI, data_dir: Path, log_path: Path) -> None:
        admins = ",".join(str(m.id) for m in MEMBERS)
        self.module = module
        self.api = api
        self.log_path = log_path
        self.env = bot_env(data_dir, api, APBOT_ADMIN_IDS=admins)
        self.proc: subprocess.Popen[bytes] | None = None
        self.launched = 0.0

    def start(self) -> float:
        """Launch and wait for the first long poll; return seconds to the first getUpdates."""
        with self.log_path.open("ab") as out:
            self.launched = time.perf_counter()
            self.proc = subprocess.Popen([sys.executable, "-m", self.module], cwd=REPO,
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        try:
            first = self.api.wait_for("getUpdates", timeout=START_TIMEOUT)[0]
            self.api.wait_until_polling(timeout=START_TIMEOUT)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.module} did not start polling; its log:\n"
                               f"{self.log_tail()}") from None
        return first.received - self.launched

    def peak_rss_mb(self) -> float:
        """VmHWM (peak resident set size) of the running process, in MB (10^6 bytes)."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running(module: str, data_dir: Path, log_path: Path) -> Iterator[tuple[Process, float]]:
    """A fresh fake Bot API and a started bot process; yields it and its start-up time."""
    with FakeBotAPI() as api:
        process = Process(module, api, data_dir, log_path)
        startup = process.start()
        try:
            yield process, startup
        finally:
            process.stop()


# ----------------------------------------------------------------------------- conversation


KINDS = {"status": "`/status`", "progress": "progress update"}  # kind → label in the report


@dataclass(frozen=True)
class Message:
    kind: str  # one of KINDS
    text: str


def messages(count: int, offset: int = 0) -> list[Message]:
    """`count` /status queries and `count` progress updates, alternating, APs rotating."""
    result = []
    for i in range(offset, offset + count):
        ap = i % 13 + 1
        result.append(Message("status", f"/status AP{ap}"))
        activity = ACTIVITIES[i % len(ACTIVITIES)]
        result.append(Message("progress", f"AP{(i * 5) % 13 + 1}: {activity}, {(i * 5) % 100} %"))
    return result


def converse(api: FakeBotAPI, script: list[Message], *, group: bool = False,
             progress: Callable[[int], None] | None = None) -> list[tuple[Message, float]]:
    """Send each message and wait for its reply; return each latency at the fake.

    10 members take turns; in private chats (each member is an admin, so apbot serves
    them there) unless `group`, then in the team group.
    """
    return converse_alternating([api], script, group=group, progress=progress)[0]


def converse_alternating(apis: Sequence[FakeBotAPI], script: list[Message], *,
                         group: bool = False, progress: Callable[[int], None] | None = None,
                         ) -> list[list[tuple[Message, float]]]:
    """Send each message to every bot in turn (A B A B …), each time waiting for the reply.

    Only one message is ever in flight, so the bots never compete with each other, and
    load from elsewhere on the machine falls on all of them alike. Each bot gets at most
    25 messages a second. Returns, per fake, each message with its latency at that fake.
    """
    results: list[list[tuple[Message, float]]] = [[] for _ in apis]
    interval = SEND_INTERVAL / len(apis)
    next_send = time.perf_counter()
    for i, message in enumerate(script):
        member = MEMBERS[i % len(MEMBERS)]
        first, _, last = member.name.partition(" ")
        for api, latencies in zip(apis, results, strict=True):
            pause = next_send - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            next_send = time.perf_counter() + interval
            if group:
                update = api.push_message(message.text, chat_id=TEAM_CHAT_ID,
                                          user_id=member.id, first_name=first, last_name=last)
            else:
                update = api.push_message(message.text, chat_type="private", user_id=member.id,
                                          first_name=first, last_name=last)
            reply = api.wait_for_reply(update, timeout=REPLY_TIMEOUT)
            latencies.append((message, reply.received - api.delivered_at(update["update_id"])))
        if progress is not None:
            progress(i + 1)
    return results


def by_kind(results: list[tuple[Message, float]]) -> dict[str, Stats]:
    stats = {kind: Stats() for kind in KINDS}
    for message, latency in results:
        stats[message.kind].values.append(latency)
    return stats


def ticker(label: str, total: int) -> Callable[[int], None]:
    step = max(1, total // 10)

    def tick(done: int) -> None:
        if done % step == 0 or done == total:
            log(f"  {label}: {done}/{total}")

    return tick


# ----------------------------------------------------------------------------- benchmarks


class Session:
    """One benchmark run: a temporary directory, generated histories, results."""

    def __init__(self, counts: Counts, workdir: Path) -> None:
        self.counts = counts
        self.workdir = workdir
        self.templates: dict[int, Path] = {}
        self.generation_s: dict[int, float] = {}
        self.rows: list[Row] = []
        self.details: list[str] = []
        self.raw: dict[str, Any] = {}
        self.peak_rss: dict[int, dict[str, float]] = {}  # stored updates → run → MB
        self._runs = 0

    def fresh_dir(self, stored: int) -> Path:
        """A new data directory holding `stored` generated updates."""
        self._runs += 1
        target = self.workdir / f"run-{self._runs:02d}"
        if stored == 0:
            target.mkdir()
            return target
        if stored not in self.templates:
            log(f"generating {stored} stored updates …")
            template = self.workdir / f"history-{stored}"
            result = generate(template, stored, datetime.now(TZ))
            (template / "apbot.lock").unlink(missing_ok=True)
            self.templates[stored] = template
            self.generation_s[stored] = result.seconds
            log(f"  {result.seconds:.1f} s")
        shutil.copytree(self.templates[stored], target)
        return target

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{self._runs:02d}-{name}.log"

    # -- 1. reply latency ----------------------------------------------------------------

    def latency(self) -> None:
        c = self.counts
        warmup = messages(c.warmup // 2 + c.warmup % 2, offset=10_000)[: c.warmup]
        names = ("apbot", "echo")
        rounds: list[dict[str, dict[str, Stats]]] = []
        group: dict[str, list[float]] = {}
        rss: dict[str, float] = {}
        log(f"latency: apbot and the echo bot at the same time, {c.rounds} rounds of "
            f"{2 * c.pairs} messages to each, alternating …")
        with contextlib.ExitStack() as stack:
            apbot, _ = stack.enter_context(
                running("bot", self.fresh_dir(0), self.log_path("apbot")))
            echo, _ = stack.enter_context(
                running("bench.echo_bot", self.fresh_dir(0), self.log_path("echo")))
            apis = (apbot.api, echo.api)
            converse_alternating(apis, warmup)
            for r in range(c.rounds):
                script = messages(c.pairs, offset=r * c.pairs)
                results = converse_alternating(
                    apis, script, progress=ticker(f"round {r + 1}/{c.rounds}", len(script)))
                rounds.append({name: by_kind(res) for name, res in zip(names, results,
                                                                       strict=True)})
            log(f"latency: {c.group_burst} messages in the team group, alternating …")
            burst = [Message("status", f"/status AP{i % 13 + 1}") if i % 2 == 0 else
                     Message("progress", f"AP{i % 13 + 1}: {ACTIVITIES[i % len(ACTIVITIES)]}")
                     for i in range(c.group_burst)]
            bursts = converse_alternating(apis, burst, group=True)
            for name, res in zip(names, bursts, strict=True):
                group[name] = [lat for _, lat in res]
            rss = {"apbot": apbot.peak_rss_mb(), "echo": echo.peak_rss_mb()}
        pooled = {name: {kind: Stats([v for rnd in rounds for v in rnd[name][kind].values])
                         for kind in KINDS} for name in names}
        ratios = {kind: {stat: [getattr(rnd["apbot"][kind], stat)
                                / getattr(rnd["echo"][kind], stat) for rnd in rounds]
                         for stat in ("median", "p95")} for kind in KINDS}
        for kind, label in KINDS.items():
            for stat in ("median", "p95"):
                values = ratios[kind][stat]
                ratio = statistics.median(values)
                a = getattr(pooled["apbot"][kind], stat)
                e = getattr(pooled["echo"][kind], stat)
                self.rows.append(Row(
                    f"Reply latency, {label}, {stat} (apbot / echo bot)",
                    f"{ratio:.2f}× (rounds {min(values):.2f}–{max(values):.2f}×); "
                    f"all rounds {ms(a)} / {ms(e)}",
                    f"≤ {LATENCY_RATIO_MAX}×", ratio <= LATENCY_RATIO_MAX))
        self.rows.append(Row(f"Team group: {c.group_burst} messages one at a time (apbot)",
                             burst_summary(group["apbot"])))
        per_round = "; ".join(
            f"round {i + 1}: " + ", ".join(
                f"{label} {ms(rnd['apbot'][kind].median)} / {ms(rnd['echo'][kind].median)} "
                f"= {ratios[kind]['median'][i]:.2f}× (p95 {ratios[kind]['p95'][i]:.2f}×)"
                for kind, label in KINDS.items())
            for i, rnd in enumerate(rounds))
        self.details.append(
            f"Latency: apbot and the echo bot run at the same time, each against its own fake "
            f"Bot API, and get the same messages in turn, one at a time (to apbot, its reply, "
            f"to the echo bot, its reply, …), so that load from elsewhere hits both alike. "
            f"{c.rounds} rounds, each {c.pairs} `/status` and {c.pairs} progress updates to "
            f"each bot, alternating, 10 members taking turns, each in a private chat with the "
            f"bot (the members are admins, so apbot serves them there); {c.warmup} warm-up "
            f"messages to each bot after start not counted. A row's ratio is the median over "
            f"the rounds of the round's ratio apbot / echo bot (in brackets the lowest and "
            f"highest round); the times after it are over all rounds' messages. "
            f"Per round (medians, apbot / echo bot): {per_round}. apbot p95/max over all "
            f"rounds: `/status` {ms(pooled['apbot']['status'].p95)}/"
            f"{ms(max(pooled['apbot']['status'].values))}, progress "
            f"{ms(pooled['apbot']['progress'].p95)}/"
            f"{ms(max(pooled['apbot']['progress'].values))}. Peak RSS apbot "
            f"{rss['apbot']:.0f} MB, echo bot {rss['echo']:.0f} MB.")
        self.details.append(
            f"Team group: {c.group_burst} messages sent one at a time into the team group, "
            f"alternating between the bots as above (no target; apbot keeps to Telegram's limit "
            f"of {GROUP_LIMIT} messages per minute per group, so a reply beyond that waits for "
            f"the group's minute). The echo bot has no rate limiter: "
            f"{burst_summary(group['echo'])}.")
        self.raw["latency"] = {
            "rounds": [{name: {kind: s.summary() for kind, s in rnd[name].items()}
                        for name in names} for rnd in rounds],
            "ratios": ratios,
            **{name: {kind: s.summary() for kind, s in kinds.items()}
               for name, kinds in pooled.items()},
            "group_burst_ms": {name: [v * 1000 for v in values]
                               for name, values in group.items()},
            "peak_rss_mb": rss,
        }

    # -- 2. growth with history ----------------------------------------------------------

    def growth(self) -> None:
        c = self.counts
        warmup = messages(c.warmup // 2 + c.warmup % 2, offset=10_000)[: c.warmup]
        script = messages(c.growth)
        results: dict[int, dict[str, Stats]] = {}
        extra: dict[int, dict[str, float]] = {}
        for size in c.sizes:
            data_dir = self.fresh_dir(size)
            log(f"growth: {size} stored, {len(script)} messages …")
            with running("bot", data_dir, self.log_path(f"growth-{size}")) as (proc, startup):
                warm = converse(proc.api, warmup)
                results[size] = by_kind(converse(proc.api, script,
                                                 progress=ticker(size_label(size), len(script))))
                extra[size] = {"startup_s": startup, "first_message_ms": warm[0][1] * 1000,
                               "peak_rss_mb": proc.peak_rss_mb()}
                self.peak_rss.setdefault(size, {})[
                    f"growth, after {len(warmup) + len(script)} messages"] = \
                    extra[size]["peak_rss_mb"]
        for size in c.sizes:
            median = results[size]["progress"].median
            self.rows.append(Row(f"Recording an update, median, {size_label(size)} stored",
                                 ms(median), f"≤ {RECORDING_MAX_MS:.0f} ms",
                                 median * 1000 <= RECORDING_MAX_MS))
        small, large = c.sizes[0], c.sizes[-1]
        ratio = results[large]["progress"].median / results[small]["progress"].median
        self.rows.append(Row(
            f"Recording growth, {size_label(large)} / {size_label(small)} (medians)",
            f"{ratio:.2f}×", f"≤ {RECORDING_GROWTH_MAX:.0f}×", ratio <= RECORDING_GROWTH_MAX))
        for size in c.sizes:
            median = results[size]["status"].median
            last = size == large
            self.rows.append(Row(f"`/status`, median, {size_label(size)} stored", ms(median),
                                 f"≤ {STATUS_MAX_MS:.0f} ms" if last else "–",
                                 median * 1000 <= STATUS_MAX_MS if last else None))
        lines = [f"{size_label(s)}: recording p95 {ms(results[s]['progress'].p95)}, "
                 f"`/status` p95 {ms(results[s]['status'].p95)}, first message after start "
                 f"{extra[s]['first_message_ms']:.0f} ms, start-up {extra[s]['startup_s']:.2f} s, "
                 f"peak RSS {extra[s]['peak_rss_mb']:.0f} MB"
                 for s in c.sizes]
        self.details.append(
            f"Growth: for each size a fresh data directory with that many generated updates "
            f"(`bench/history.py`, through `Store.add_update`), then {c.growth} progress "
            f"updates and {c.growth} `/status` alternating, 10 members in private chats, after "
            f"{c.warmup} warm-up messages; the time is the reply latency as the user sees it. "
            + "; ".join(lines) + ".")
        self.raw["growth"] = {str(s): {**{k: v.summary() for k, v in results[s].items()},
                                       **extra[s]} for s in c.sizes}

    # -- 3. start-up and memory ----------------------------------------------------------

    def startup(self) -> None:
        c = self.counts
        size = c.sizes[-1]
        times = []
        for i in range(c.startups):
            log(f"start-up: {size} stored, launch {i + 1}/{c.startups} …")
            with running("bot", self.fresh_dir(size), self.log_path("startup")) as (proc, t):
                times.append(t)
                if i == c.startups - 1:
                    converse(proc.api, messages(c.startup_workload))
                    self.peak_rss.setdefault(size, {})[
                        f"start-up, after {2 * c.startup_workload} messages"] = \
                        proc.peak_rss_mb()
        log("start-up: empty store …")
        with running("bot", self.fresh_dir(0), self.log_path("startup-empty")) as (_, empty):
            pass
        median = statistics.median(times)
        label = size_label(size)
        rss = max(self.peak_rss[size].values())
        self.rows.append(Row(f"Start-up to first getUpdates, {label} stored", f"{median:.2f} s",
                             f"≤ {STARTUP_MAX_S:.0f} s", median <= STARTUP_MAX_S))
        self.rows.append(Row("Start-up to first getUpdates, empty store", f"{empty:.2f} s"))
        self.rows.append(Row(f"Peak RSS (VmHWM), {label} stored", f"{rss:.0f} MB",
                             f"≤ {RSS_MAX_MB:.0f} MB", rss <= RSS_MAX_MB))
        self.details.append(
            f"Start-up: from launching `python -m bot` to its first getUpdates at the fake; "
            f"median of {c.startups} launch(es) on fresh copies of a {label} history "
            f"({', '.join(f'{t:.2f} s' for t in times)}). Peak RSS: VmHWM from "
            f"/proc/<pid>/status, read just before stopping the bot, the highest of the runs "
            f"with {label} stored updates ("
            + ", ".join(f"{run}: {mb:.0f} MB" for run, mb in self.peak_rss[size].items())
            + ").")
        self.raw["startup"] = {"stored": size, "times_s": times, "empty_s": empty,
                               "peak_rss_mb": self.peak_rss[size]}


    # -- 4. the first chart after start-up --------------------------------------------

    def first_chart(self, api: FakeBotAPI, wait: float) -> float:
        """Seconds from /zeitplan handed to the bot to its photo arriving at the fake."""
        if wait:
            time.sleep(wait)
        member = MEMBERS[0]
        update = api.push_message("/zeitplan", chat_type="private", user_id=member.id,
                                  first_name=member.name)
        [photo] = api.wait_for("sendPhoto", timeout=REPLY_TIMEOUT, predicate=lambda c: c.ok)
        return photo.received - api.delivered_at(update["update_id"])

    def chart(self) -> None:
        c = self.counts
        stored = c.sizes[0]
        at_once, later = [], []
        for i in range(c.charts):
            for wait, times in ((0.0, at_once), (CHART_LATER_S, later)):
                log(f"first /zeitplan: launch {i + 1}/{c.charts}, asked {wait:.0f} s after "
                    "the first getUpdates …")
                with running("bot", self.fresh_dir(stored), self.log_path("chart")) as (
                        proc, _):
                    times.append(self.first_chart(proc.api, wait))
        now, soon = statistics.median(at_once), statistics.median(later)
        self.rows.append(Row("First `/zeitplan` after start-up, asked at the first getUpdates",
                             f"{now:.2f} s", f"≤ {FIRST_CHART_MAX_S:.0f} s",
                             now <= FIRST_CHART_MAX_S))
        self.rows.append(Row(f"First `/zeitplan` after start-up, asked {CHART_LATER_S:.0f} s "
                             "later", f"{soon:.2f} s", f"≤ {FIRST_CHART_MAX_S:.0f} s",
                             soon <= FIRST_CHART_MAX_S))
        self.details.append(
            f"First chart: a fresh process with {size_label(stored)} stored updates; "
            "`/zeitplan` sent in a private chat either as soon as the bot first polls or "
            f"{CHART_LATER_S:.0f} s later; the time from the fake handing it out to the photo "
            f"(1280 px wide) arriving at `sendPhoto`, median of {c.charts} launch(es) each "
            f"(at once: {', '.join(f'{t:.2f} s' for t in at_once)}; later: "
            f"{', '.join(f'{t:.2f} s' for t in later)}). apbot's chart worker process imports "
            "matplotlib from launch on, and the day's chart is drawn once the bot is up.")
        self.raw["chart"] = {"stored": stored, "at_once_s": at_once, "later_s": later}


# ----------------------------------------------------------------------------- report


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--", "bot", "workflows")
    code = (f"{commit}{' + uncommitted changes in bot/ or workflows/' if dirty else ''}"
            if commit else "not a git checkout")

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "cpus": str(len(os.sched_getaffinity(0))),
        "cpu": cpu or platform.processor() or "?",
        "python": platform.python_version(),
        "python-telegram-bot": version("python-telegram-bot"),
        "tinydb": version("tinydb"),
        "os": platform.platform(),
        "code": code,
    }


def report(session: Session, info: dict[str, str], seconds: float, quick: bool,
           load: tuple[float, float]) -> str:
    lines = [
        "| Measurement | Measured | Target | Result |",
        "|---|---|---|---|",
        *(f"| {r.measurement} | {r.measured} | {r.target} | {r.result} |" for r in session.rows),
        "",
        f"Measured {datetime.now(TZ):%Y-%m-%d %H:%M} on {info['cpus']} CPUs ({info['cpu']}), "
        f"Python {info['python']}, python-telegram-bot {info['python-telegram-bot']}, "
        f"TinyDB {info['tinydb']}, {info['os']}; code {info['code']}. "
        f"Run time {seconds / 60:.1f} min"
        f"{' (--quick: small counts, not the targets)' if quick else ''}; load average "
        f"(1 min) {load[0]:.2f} at the start, {load[1]:.2f} at the end.",
        "",
        "How: the real `python -m bot` against the local fake Bot API over HTTP "
        "(`tests/fake_bot_api.py`); latency is taken at the fake, from `getUpdates` handing "
        "the update out to the reply arriving at `sendMessage`; one message at a time, at "
        f"most {1 / SEND_INTERVAL:.0f} per second to a bot. For the latency rows apbot and "
        "the echo bot run at the same time and the messages alternate between them.",
        "",
        *(f"- {d}" for d in session.details),
    ]
    if session.generation_s:
        made = ", ".join(f"{size_label(n)} in {s:.1f} s"
                         for n, s in sorted(session.generation_s.items()))
        lines.append(f"- Generated histories (`Store.transaction()` blocks of 1000): {made}.")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small counts: a smoke test of the benchmark, not of the targets")
    parser.add_argument("--only", choices=BENCHMARKS, action="append",
                        help="run only this benchmark (may be repeated)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers to this file")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (data, bot logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = QUICK if args.quick else FULL
    wanted = args.only or list(BENCHMARKS)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="apbot-bench-"))
    session = Session(counts, workdir)
    try:
        for name in BENCHMARKS:
            if name in wanted:
                getattr(session, name)()
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - started
    info = machine()
    load = (load_before, os.getloadavg()[0])
    print(report(session, info, seconds, args.quick, load))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "counts": asdict(counts),
                                         "seconds": seconds, "load_average": load,
                                         "results": session.raw,
                                         "rows": [asdict(r) for r in session.rows]},
                                        indent=2, ensure_ascii=False))
    return 0
