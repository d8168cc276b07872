"""Charts drawn in a process of their own, started with the bot (`bot.render.chart_worker`).

Importing matplotlib and drawing a chart cost about two seconds of CPU. In the bot's own
process that work would share one interpreter lock with the event loop (every other
chat waits a little) and, at start-up, come on top of everything else. The Telegram
front-end therefore starts this worker first thing: it imports matplotlib on the other
core while the bot loads its data, and draws what it is sent. Requests and PNGs go as
length-prefixed pickles over the worker's stdin and stdout; when the bot's end of the
pipe closes (it stopped or died), the worker ends.

The worker runs at a lower CPU priority (`NICENESS`): on a machine with two cores its
import and the day's chart, drawn right after start-up, would otherwise take CPU time
from the bot and slow the answers of its first seconds; on an idle core it runs as fast.

Without a running worker (console, command line, tests), or if it fails, charts are drawn
in the calling process as before. Charts already drawn are kept by request (`draw_chart`),
so the chart drawn at start-up answers the first /zeitplan.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # the worker lowers its priority before it imports the plan's modules
    from bot.render.timeline import ChartRequest

log = logging.getLogger(__name__)
HEADER = struct.Struct(">Q")
TIMEOUT = 120.0  # seconds for one chart before the worker is given up
NICENESS = 10  # how much lower the worker's CPU priority is than the bot's


def _send(stream: BinaryIO, payload: object) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: BinaryIO) -> object:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError("the other side closed the pipe")
    (size,) = HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe")
    return pickle.loads(data)  # our own process on the other end


class ChartWorker:
    """The worker process, seen from the bot: start, draw, stop."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one chart at a time through the pipe
        self.stopped = False  # the bot is stopping: no chart is drawn any more

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the worker (it imports matplotlib at once); OSError if it cannot start."""
        if self.running:
            return
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bot.render.chart_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, close_fds=True)

    def draw(self, request: ChartRequest) -> bytes:
        """The chart's PNG from the worker; RuntimeError if the worker cannot draw it."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None or proc.stdin is None or (
                    proc.stdout is None):
                raise RuntimeError("the chart worker is not running")
            try:
                _send(proc.stdin, request)  # type: ignore[arg-type]
                answer = _receive(proc.stdout)  # type: ignore[arg-type]
            except (OSError, EOFError, pickle.PickleError, ValueError) as err:
                self._stop_now()
                raise RuntimeError(f"the chart worker failed ({err})") from None
        kind, value = answer if isinstance(answer, tuple) and len(answer) == 2 else ("?", answer)
        if kind != "png" or not isinstance(value, bytes):
            raise RuntimeError(f"the chart worker could not draw the chart: {value}")
        return value

    def stop(self, grace: float = 0.5) -> None:
        """Close its input (it ends by itself), give it `grace` seconds, then end it.

        Its output is not closed here: a thread waiting for a chart holds that stream's
        lock until the worker is gone, and then gets EOF.
        """
        proc, self._proc = self._proc, None
        self.stopped = True
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:  # busy (importing, drawing): it is only a drawing
            proc.kill()
            proc.wait()
        _close_output(proc)

    def _stop_now(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        _close_output(proc)


def _close_output(proc: subprocess.Popen[bytes]) -> None:
    """Close the worker's output once it has ended (a reader then has had its EOF)."""
    if proc.stdout is not None:
        with contextlib.suppress(OSError):
            proc.stdout.close()


WORKER = ChartWorker()  # the process's one worker; the Telegram front-end starts it


def start_chart_worker() -> None:
    """Start the worker; if it cannot start, charts are drawn in this process."""
    try:
        WORKER.start()
    except OSError as err:
        log.warning("the chart worker did not start (%s); charts are drawn here", err)


def stop_chart_worker() -> None:
    WORKER.stop()


class _Drawn:
    """Charts drawn lately, by request; a request being drawn is waited for, not drawn
    twice (the chart drawn at start-up in the background serves the first /zeitplan)."""

    def __init__(self, keep: int = 4) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._charts: OrderedDict[ChartRequest, Future[bytes]] = OrderedDict()

    def get(self, request: ChartRequest, draw: Callable[[ChartRequest], bytes]) -> bytes:
        with self._lock:
            future = self._charts.get(request)
            mine = future is None
            if future is None:
                future = self._charts[request] = Future()
                while len(self._charts) > self._keep:
                    self._charts.popitem(last=False)
            else:
                self._charts.move_to_end(request)
        if mine:
            try:
                future.set_result(draw(request))
            except BaseException as err:
                with self._lock:
                    self._charts.pop(request, None)
                future.set_exception(err)
        return future.result()


DRAWN = _Drawn()


def _draw(request: ChartRequest) -> bytes:
    if WORKER.running:
        try:
            return WORKER.draw(request)
        except RuntimeError as err:
            if WORKER.stopped:
                raise
            log.warning("%s; drawing it here instead", err)
    elif WORKER.stopped:
        raise RuntimeError("the bot is stopping")
    from bot.render.gantt import render_request  # matplotlib, in this process

    return render_request(request)


def draw_chart(request: ChartRequest) -> bytes:
    """The chart for `request` as PNG bytes: by the worker if it runs, once per request."""
    return DRAWN.get(request, _draw)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: a request in, its PNG (or what went wrong) out, until EOF."""
    from bot.render.gantt import render_request, warm_up

    warm_up()
    while True:
        try:
            request = _receive(requests)
        except EOFError:
            return
        try:
            answer: tuple[str, object] = ("png", render_request(request))  # type: ignore[arg-type]
        except Exception as err:  # told to the bot, which logs it and draws itself
            answer = ("error", f"{type(err).__name__}: {err}")
        _send(answers, answer)


def lower_priority(increment: int = NICENESS) -> None:
    """Yield the CPU to the bot whenever both want it (best effort: never fatal)."""
    try:
        os.nice(increment)
    except OSError as err:
        log.warning("the chart worker keeps its priority (%s)", err)


def main() -> None:
    lower_priority()  # first: the imports below cost CPU time too
    # Our stdout is the pipe to the bot: anything a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, EOFError):
        serve(sys.stdin.buffer, answers)  # until the bot stops


if __name__ == "__main__":
    main()
