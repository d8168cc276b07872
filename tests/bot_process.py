"""Run the real `python -m bot` process for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self
from zoneinfo import ZoneInfo

from tests.clocked_bot import START_VARIABLE
from tests.conftest import TEST_PLAN
from tests.fake_bot_api import DEFAULT_GROUP_ID, DEFAULT_TOKEN, FakeBotAPI

REPO = Path(__file__).resolve().parents[1]
ADMIN_ID = 1001  # "Anna", the fake's default sender
# Every bot process runs at this date unless a test gives another: a Thursday in Q4 2026,
# mid-programme, whatever the machine's date (see tests/clocked_bot.py).
E2E_NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
MEMBER_ID = 1002


def bot_env(data_dir: Path, api: FakeBotAPI | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's APBOT_* or TELEGRAM_* leaks in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("APBOT_", "TELEGRAM_"))}
    env.update(APBOT_DATA_DIR=str(data_dir), APBOT_TEAM_CHAT_ID=str(DEFAULT_GROUP_ID),
               APBOT_ADMIN_IDS=str(ADMIN_ID), PYTHONUNBUFFERED="1")
    if "APBOT_PLAN" not in extra:
        # The test plan, as the team's own plan in the data directory: changes made in a
        # test go there, never into tests/fixtures.
        data_dir.mkdir(parents=True, exist_ok=True)
        if not (data_dir / "plan.toml").exists():
            shutil.copyfile(TEST_PLAN, data_dir / "plan.toml")
    if api is not None:
        env.update(TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN, TELEGRAM_API_BASE_URL=api.base_url)
    env.update(extra)
    return env


class ChildProcess:
    """A `python -m bot` child (through tests.clocked_bot), its output in a log file:
    launched, stopped with SIGTERM (kill -9 after 15 s), or killed outright."""

    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def _launch(self, env: dict[str, str], now: datetime,
                preexec_fn: Callable[[], object] | None = None) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.clocked_bot"], cwd=REPO,
                                         env={**env, START_VARIABLE: now.isoformat()},
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
        return self.proc

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code, self.proc = self.proc.returncode, None
        return code

    def kill(self) -> None:
        """kill -9: no clean shutdown."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class BotProcess(ChildProcess):
    """`python -m bot` against the fake Bot API; its log goes to a file."""

    def __init__(self, api: FakeBotAPI, data_dir: Path, log_path: Path, *,
                 preexec_fn: Callable[[], object] | None = None, now: datetime | None = None,
                 **env: str) -> None:
        """`preexec_fn` runs in the child before `exec` (e.g. to set a resource limit);
        `now` is what the process's clock shows at first (default: E2E_NOW)."""
        self.api = api
        self.log_path = log_path
        self._env = bot_env(data_dir, api, **env)
        self._preexec_fn = preexec_fn
        self.proc: subprocess.Popen[bytes] | None = None
        self.set_clock(E2E_NOW if now is None else now)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def set_clock(self, now: datetime) -> None:
        """The clock shows `now` at this moment and runs on, for the bot process (across
        its restarts) and for the dates the fake gives messages."""
        self._clock = (now, time.monotonic())
        self.api.set_clock(now)

    def clock(self) -> datetime:
        """What the bot's clock shows now."""
        origin, began = self._clock
        return origin + timedelta(seconds=time.monotonic() - began)

    def start(self) -> None:
        self._launch(self._env, self.clock(), self._preexec_fn)
        try:
            self.api.wait_until_polling(timeout=20)
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"the bot did not start polling; its log:\n{self.log()}") from None
