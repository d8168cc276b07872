"""The Matrix rows of `python -m bot check`: homeserver answers, login works, team room joined.

Plain HTTP (httpx, as the other checks): the check must not need the bot's event loop.
It changes nothing on the homeserver: an access token is only asked who it is; a password
login makes a device of its own and logs it out again (logging out the bot's own device
would end the running bot's session).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from bot.cli.check import HTTP_TIMEOUT, Probe, Row, fail, ok, warn
from bot.frontends.matrix.events import read_tombstone

CHECK_DEVICE = "apbot check"


class _Failed(Exception):
    """An answer that is not what was asked for: (HTTP status, errcode, error)."""

    def __init__(self, status: int, errcode: str, error: str) -> None:
        super().__init__(f"{errcode or status}: {error}".strip(": "))
        self.status, self.errcode = status, errcode


def _call(probe: Probe, method: str, path: str, token: str | None = None,
          body: dict[str, Any] | None = None) -> dict[str, Any]:
    client = probe.http or httpx.Client(timeout=HTTP_TIMEOUT)
    probe.http = client
    assert probe.settings.matrix_homeserver is not None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.request(method, probe.settings.matrix_homeserver + path, json=body,
                              headers=headers)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _Failed(response.status_code, "", f"keine Matrix-Antwort (HTTP "
                      f"{response.status_code})")
    if response.status_code >= 400:
        raise _Failed(response.status_code, str(answer.get("errcode", "")),
                      probe.redact(str(answer.get("error", ""))))
    return answer


def matrix_rows(probe: Probe) -> Iterable[Row]:
    """Homeserver, login and team room, each one row (or a few)."""
    settings = probe.settings
    bad = [name for name in probe.bad_variables if name.startswith("APBOT_MATRIX")]
    for name in bad:
        yield fail(probe.bad_variables[name], "den Wert berichtigen (siehe README, Matrix).")
    if bad or not settings.matrix:
        return
    server = settings.matrix_homeserver
    try:
        versions = _call(probe, "GET", "/_matrix/client/versions").get("versions") or []
    except (httpx.HTTPError, _Failed) as err:
        yield fail(f"Der Matrix-Server {server} antwortet nicht ({probe.redact(str(err))}).",
                   "die Adresse in APBOT_MATRIX_HOMESERVER prüfen (mit https://) und ob der "
                   "Server von hier erreichbar ist.")
        return
    yield ok(f"Matrix-Server antwortet: {server} (Client-API {', '.join(versions[-2:])})")
    token = yield from _login_rows(probe)
    if token is None:
        return
    try:
        yield from _team_room_rows(probe, token[0])
    finally:
        if token[1]:  # our own device from a password login: gone again
            try:
                _call(probe, "POST", "/_matrix/client/v3/logout", token[0], {})
            except (httpx.HTTPError, _Failed) as err:
                yield warn(f"Das Prüf-Gerät „{CHECK_DEVICE}“ ließ sich nicht abmelden "
                           f"({err}).", "in Element unter Sitzungen von apbot entfernen.")


def _login_rows(probe: Probe) -> Generator[Row, None, tuple[str, bool] | None]:
    """Whoami with the token, or a login with the password; returns (token, ours)."""
    settings = probe.settings
    user = settings.matrix_user
    try:
        if settings.matrix_access_token:
            token, ours = settings.matrix_access_token, False
        else:
            answer = _call(probe, "POST", "/_matrix/client/v3/login", body={
                "type": "m.login.password", "password": settings.matrix_password,
                "identifier": {"type": "m.id.user", "user": user},
                "initial_device_display_name": CHECK_DEVICE})
            token, ours = str(answer["access_token"]), True
        me = _call(probe, "GET", "/_matrix/client/v3/account/whoami", token)
    except httpx.HTTPError as err:
        yield fail(f"Anmelden bei Matrix nicht geprüft: der Server antwortet nicht ({err}).")
        return None
    except _Failed as err:
        how = "das Zugangstoken" if settings.matrix_access_token else "das Passwort"
        yield fail(f"Der Matrix-Server lehnt {how} für {user} ab ({err}).",
                   "ein gültiges Zugangstoken in APBOT_MATRIX_ACCESS_TOKEN eintragen "
                   "(siehe README, Matrix).")
        return None
    if me.get("user_id") != user:
        yield fail(f"Das Zugangstoken gehört {me.get('user_id')}, nicht {user}.",
                   "APBOT_MATRIX_USER oder das Token berichtigen.")
        return None
    how = "Zugangstoken" if not ours else "Passwort"
    yield ok(f"Anmeldung bei Matrix klappt: {user} (mit {how})")
    return token, ours


def _team_room_rows(probe: Probe, token: str) -> Iterable[Row]:
    room = probe.settings.team_chat_id
    user = probe.settings.matrix_user
    if room is None:
        return
    if not str(room).startswith("!"):
        yield fail(f"APBOT_TEAM_CHAT_ID {room} ist keine Matrix-Raum-ID (!…:server).",
                   "in Element unter Raumeinstellungen → Erweitert die interne Raum-ID "
                   "kopieren.")
        return
    path = f"/_matrix/client/v3/rooms/{quote(str(room))}"
    invite = (f"in Element {user} in den Team-Raum einladen; apbot tritt beim nächsten Start "
              "(oder sofort, wenn er läuft) bei.")
    try:
        joined = _call(probe, "GET", f"{path}/joined_members", token).get("joined") or {}
    except httpx.HTTPError as err:
        yield fail(f"Team-Raum nicht geprüft: der Server antwortet nicht ({err}).")
        return
    except _Failed as err:
        yield fail(f"apbot ist nicht im Team-Raum {room} ({err}).", invite)
        return
    if user not in joined:
        yield fail(f"apbot ist nicht im Team-Raum {room}.", invite)
        return
    try:
        name = _call(probe, "GET", f"{path}/state/m.room.name", token).get("name") or ""
    except (httpx.HTTPError, _Failed):
        name = ""
    shown = f"„{name}“" if name else str(room)
    yield ok(f"apbot ist im Team-Raum {shown} ({len(joined)} Mitglieder)")
    yield from _upgrade_rows(probe, token, path)
    try:
        _call(probe, "GET", f"{path}/state/m.room.encryption", token)
    except _Failed as err:
        if err.status == 404:
            return
        yield warn(f"Ob der Team-Raum verschlüsselt ist, sagt der Server nicht ({err}).")
        return
    except httpx.HTTPError:
        return
    yield fail("Der Team-Raum ist verschlüsselt: dort kann apbot nicht mitlesen.",
               "einen unverschlüsselten Raum anlegen (oder pantalaimon nutzen, siehe README).")


def _upgrade_rows(probe: Probe, token: str, path: str) -> Iterable[Row]:
    """A team room replaced by an upgrade (m.room.tombstone): apbot follows it, but the
    setting should name the room the team talks in now."""
    try:
        content = _call(probe, "GET", f"{path}/state/m.room.tombstone", token)
    except (httpx.HTTPError, _Failed):
        return  # 404: not upgraded
    new = read_tombstone({"type": "m.room.tombstone", "state_key": "", "content": content})
    if new is None:
        return
    try:
        joined = _call(probe, "GET", f"/_matrix/client/v3/rooms/{quote(new)}/joined_members",
                       token).get("joined") or {}
    except (httpx.HTTPError, _Failed):
        joined = {}
    there = ("apbot ist schon dort und postet dort" if probe.settings.matrix_user in joined
             else "apbot tritt bei, sobald er eingeladen ist")
    yield warn(f"Der Team-Raum wurde durch einen neuen Raum ersetzt (Raum-Upgrade): {new}; "
               f"{there}.", f"APBOT_TEAM_CHAT_ID={new} eintragen.")
