"""A real Synapse homeserver for the Matrix tests: SQLite, loopback only, a free port.

Synapse (`matrix-synapse` from PyPI) lives in a virtual environment of its own: its
dependencies (Twisted, …) must not mix with apbot's. `.ci/run` creates it; the tests find
it through APBOT_SYNAPSE_PYTHON (that venv's python) or at SYNAPSE_VENV, and are skipped
when neither exists — except in CI (CI=true), where a missing Synapse is an error.

Users are registered through the shared-secret admin API (what `register_new_matrix_user`
does), so no registration is open. Rate limits are relaxed for every user registered here
(a per-user override) except those registered with `limited=True`: the tests of
M_LIMIT_EXCEEDED send as such a user, and the config's limits for messages are tight.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

SYNAPSE_VENV = Path.home() / ".cache" / "apbot" / "synapse-venv"
SERVER_NAME = "apbot.test"
# Messages per second for users without the override: low, so that a short burst from
# one such user meets M_LIMIT_EXCEEDED within a few messages.
TIGHT_PER_SECOND, TIGHT_BURST = 2.0, 2


def synapse_python() -> Path | None:
    """The python of Synapse's own venv, or None when it is not installed here."""
    named = os.environ.get("APBOT_SYNAPSE_PYTHON", "").strip()
    candidates = [Path(named)] if named else [SYNAPSE_VENV / "bin" / "python"]
    for python in candidates:
        if python.is_file():
            return python
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(directory: Path, port: int, secret: str) -> str:
    """homeserver.yaml: JSON is YAML, and needs no YAML library here."""
    log_config = directory / "log.yaml"
    log_config.write_text(json.dumps({
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain",
                              "filename": str(directory / "homeserver.log")}},
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }))
    relaxed = {"per_second": 1000, "burst_count": 1000}
    return json.dumps({
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                       "tls": False, "x_forwarded": False,
                       "resources": [{"names": ["client"], "compress": False}]}],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(log_config),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "bcrypt_rounds": 4,  # registering and logging in fast
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        # Synapse answers a repeated identical sync from a cache for two minutes: a test
        # client's fresh initial sync would start from an old token.
        "caches": {"sync_response_cache_duration": 0},
        "enable_registration": False,
        "rc_message": {"per_second": TIGHT_PER_SECOND, "burst_count": TIGHT_BURST},
        "rc_registration": relaxed,
        "rc_login": {"address": relaxed, "account": relaxed, "failed_attempts": relaxed},
        "rc_joins": {"local": relaxed, "remote": relaxed},
        "rc_joins_per_room": relaxed,
        "rc_invites": {"per_room": relaxed, "per_user": relaxed, "per_issuer": relaxed},
        "rc_admin_redaction": relaxed,
        "rc_media_create": relaxed,
        "rc_presence": {"per_user": relaxed},
        "rc_delayed_event_mgmt": relaxed,
        "rc_room_creation": relaxed,
        "rc_reports": relaxed,
    })


@dataclass(frozen=True)
class User:
    user_id: str
    access_token: str = ""
    password: str = ""


class SynapseError(Exception):
    """The homeserver answered with an error (status, errcode, body)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class Synapse:
    """One homeserver in `directory`, on a free loopback port, until `stop`."""

    def __init__(self, directory: Path, python: Path) -> None:
        self.directory = directory
        self.python = python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self._admin: User | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "homeserver.yaml"
        config.write_text(_config(self.directory, self.port, self.secret))
        key = self.directory / "signing.key"
        if not key.exists():
            # Any 32 random bytes are an ed25519 seed; Synapse's format: alg, version, seed.
            seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            key.write_text(f"ed25519 a_test {seed}\n")
        out = (self.directory / "stdout.log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.directory, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                self.request("GET", "/_matrix/client/versions")
                return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Synapse did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.directory / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-5000:])
        return "\n".join(parts)

    # -- HTTP ------------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                token: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """One client-server API call; SynapseError for an error answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                result: dict[str, Any] = json.loads(resp.read() or b"{}")
                return result
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"raw": raw.decode(errors="replace")}
            raise SynapseError(err.code, parsed) from None

    def register(self, localpart: str, password: str | None = None, admin: bool = False,
                 limited: bool = False) -> User:
        """A new user through the shared secret (as register_new_matrix_user does)."""
        password = password or secrets.token_urlsafe(12)
        path = "/_synapse/admin/v1/register"
        nonce = self.request("GET", path)["nonce"]
        mac = hmac.new(self.secret.encode(),
                       b"\x00".join(p.encode() for p in (nonce, localpart, password,
                                                         "admin" if admin else "notadmin")),
                       hashlib.sha1)
        answer = self.request("POST", path, {"nonce": nonce, "username": localpart,
                                             "password": password, "admin": admin,
                                             "mac": mac.hexdigest()})
        user = User(answer["user_id"], answer["access_token"], password)
        if not limited:
            self.unlimit(user.user_id)
        return user

    def admin(self) -> User:
        if self._admin is None:
            self._admin = self.register("admin-" + secrets.token_hex(3), admin=True,
                                        limited=True)
            self.unlimit(self._admin.user_id)
        return self._admin

    def unlimit(self, user_id: str) -> None:
        """No rate limit for messages from `user_id` (Synapse's per-user override)."""
        quoted = urllib.parse.quote(user_id)
        self.request("POST", f"/_synapse/admin/v1/users/{quoted}/override_ratelimit",
                     {"messages_per_second": 0, "burst_count": 0}, token=self.admin().access_token)
