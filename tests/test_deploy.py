"""deploy/apbot.service and deploy/Containerfile: checked where the tools exist, and their
commands run as they would there, with the venv's Python.

The machine running the tests has neither systemd as its init nor a container runtime:
`systemd-analyze verify` checks the unit when it is installed, and the unit's ExecStart,
the image's ENTRYPOINT and its HEALTHCHECK run here, with the unit's or the image's
environment, against the local fake Bot API.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bot_process import ADMIN_ID, REPO
from tests.fake_bot_api import DEFAULT_GROUP_ID, DEFAULT_TOKEN, FakeBotAPI

UNIT = REPO / "deploy" / "apbot.service"
CONTAINERFILE = REPO / "deploy" / "Containerfile"
VENV_PYTHON = "/opt/apbot/.venv/bin/python"  # where the unit and the image have apbot


def unit_settings(path: Path = UNIT) -> dict[str, list[str]]:
    """`Section.Key` → every value given (systemd allows a key more than once)."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


def instructions(path: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """The Containerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in instructions():
        if word == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(rest))
    return env


def exec_form(rest: str) -> list[str]:
    """A JSON-array instruction (ENTRYPOINT, CMD, HEALTHCHECK … CMD) with the venv's Python."""
    command = json.loads(rest[rest.index("["):])
    assert isinstance(command, list)
    return [sys.executable if part == VENV_PYTHON else part for part in command]


def clean_env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("APBOT_", "TELEGRAM_"))}
    env.update(extra)
    return env


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify wants the ExecStart program to exist: the venv's Python stands in for it.
    unit = tmp_path / "apbot.service"
    unit.write_text(UNIT.read_text().replace(VENV_PYTHON, sys.executable))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    # It warns about lines it cannot parse but still exits 0: any word on our unit counts.
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if "apbot.service" in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


def test_unit_is_locked_down_and_keeps_data_in_its_state_directory() -> None:
    unit = unit_settings()
    service = {key.removeprefix("Service."): values[-1] for key, values in unit.items()
               if key.startswith("Service.")}
    assert service.get("DynamicUser") == "yes" or service.get("User") not in (None, "root")
    assert service["StateDirectory"] == "apbot"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                       ("ProtectHome", "yes"), ("PrivateTmp", "yes")]:
        assert service.get(key) == value, key
    environment = dict(v.split("=", 1) for v in unit["Service.Environment"])
    assert service["ReadWritePaths"] == environment["APBOT_DATA_DIR"] == "/var/lib/apbot"
    assert service["ExecStart"] == f"{VENV_PYTHON} -m bot"


def _run_until_polling(command: list[str], env: dict[str, str], cwd: Path,
                       api: FakeBotAPI, log: Path) -> float:
    """Start `command`, wait for its first getUpdates, SIGTERM it; seconds it took to stop."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        api.wait_until_polling(timeout=30)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, log.read_text()
    return took


@pytest.mark.e2e
def test_unit_and_image_start_the_bot_and_stop_it_within_the_timeout(tmp_path: Path) -> None:
    """ExecStart with the unit's Environment=, and the image's ENTRYPOINT with its ENV: each
    serves Telegram and stops on SIGTERM well within TimeoutStopSec."""
    unit = unit_settings()
    timeout = float(unit["Service.TimeoutStopSec"][-1].removesuffix("s"))
    settings = {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "APBOT_TEAM_CHAT_ID": str(DEFAULT_GROUP_ID),
                "APBOT_ADMIN_IDS": str(ADMIN_ID)}  # what /etc/apbot/apbot.env would hold
    for name in ("unit", "image"):
        data = tmp_path / name
        data.mkdir()
        with FakeBotAPI() as api:
            if name == "unit":
                env = dict(v.split("=", 1) for v in unit["Service.Environment"])
                env.update(APBOT_DATA_DIR=str(data),
                           MPLCONFIGDIR=str(tmp_path / "cache" / "matplotlib"))
                command = [sys.executable if p == VENV_PYTHON else p
                           for p in shlex.split(unit["Service.ExecStart"][-1])]
            else:
                env = {**image_env(), "APBOT_DATA_DIR": str(data)}
                steps = dict(instructions())
                command = exec_form(steps["ENTRYPOINT"]) + exec_form(steps["CMD"])
            run_env = clean_env(**env, **settings, TELEGRAM_API_BASE_URL=api.base_url)
            took = _run_until_polling(command, run_env, data, api, tmp_path / f"{name}.log")
        # On an idle machine 0.4–0.6 s; right after start-up on a loaded one it waits for
        # the start-up chart drawing (9 s seen with a load of 6 on 2 cores).
        assert took < timeout, f"{name}: SIGTERM took {took:.1f} s"
        assert (data / "apbot.json").exists()  # it used the data directory it was given


def test_image_runs_as_a_user_with_the_data_as_volume() -> None:
    steps = instructions()
    assert steps[0][0] == "FROM" and "slim" in steps[0][1]
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    volumes = [json.loads(rest) for word, rest in steps if word == "VOLUME"]
    assert [image_env()["APBOT_DATA_DIR"]] in volumes


def test_image_health_check_runs_the_quick_self_check(tmp_path: Path) -> None:
    healthcheck = next(rest for word, rest in instructions() if word == "HEALTHCHECK")
    command = exec_form(healthcheck)
    assert command[1:] == ["-m", "bot", "check", "--quick"]
    data = tmp_path / "data"
    data.mkdir()
    env = clean_env(**{**image_env(), "APBOT_DATA_DIR": str(data)},
                    TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
                    TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",  # never asked
                    APBOT_TEAM_CHAT_ID=str(DEFAULT_GROUP_ID), APBOT_ADMIN_IDS=str(ADMIN_ID))
    done = subprocess.run(command, cwd=data, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✅ Datenverzeichnis" in done.stdout
    # Unhealthy when the data volume cannot hold apbot's data.
    (data / "apbot.json").write_text("{}")
    env["APBOT_DATA_DIR"] = str(data / "apbot.json")
    done = subprocess.run(command, cwd=data, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    assert "❌" in done.stdout


def test_apbotctl_runs_the_commands_with_the_services_settings(tmp_path: Path) -> None:
    """deploy/apbotctl reads the settings file as root and runs `python -m bot` as the
    service's user (here: the user running the tests, which must be root for runuser)."""
    import os
    import pwd

    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("apbotctl needs root and runuser")
    data = tmp_path / "data"
    settings = tmp_path / "apbot.env"
    example = (REPO / "deploy" / "apbot.env.example").read_text()
    settings.write_text(example + f"APBOT_DATA_DIR={data}\n")
    env = clean_env(APBOT_ENV_FILE=str(settings), APBOT_PYTHON=sys.executable,
                    APBOT_USER=pwd.getpwuid(os.geteuid()).pw_name)
    ctl = str(REPO / "deploy" / "apbotctl")
    done = subprocess.run([ctl, "check", "--quick"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Das Datenverzeichnis {data} gibt es noch nicht" in done.stdout
    assert "Team-Chat eingetragen: -1001234567890" in done.stdout  # from the file
    assert "ABC-replace" not in done.stdout + done.stderr
    data.mkdir()
    done = subprocess.run([ctl, "backups"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0
    assert f"Noch keine Sicherung in {data / 'backups'}" in done.stdout
