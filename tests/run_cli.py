"""Run `python -m bot …` as its own process: the CLI sets up logging for the whole process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TEST_PLAN

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Ran:
    returncode: int
    raw: bytes  # stdout byte for byte: "-" writes the file there
    stderr: str

    @property
    def stdout(self) -> str:
        return self.raw.decode("utf-8")


def run_cli(data_dir: Path, *args: str) -> Ran:
    """`python -m bot ARGS` on the test plan and `data_dir`, without Telegram."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APBOT_", "TELEGRAM_"))}
    env.update(APBOT_DATA_DIR=str(data_dir), APBOT_PLAN=str(TEST_PLAN))
    done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO, env=env,
                          capture_output=True, timeout=120, check=False)
    return Ran(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))
