"""`python -m bot check [--quick]`: is apbot set up right? One line per check, in German.

Each check is a function from the `Probe` (environment, settings, clock) to rows; a row
is ✅ (fine), ⚠️ (works, but look at it) or ❌ (apbot will not work as meant), and a
problem says what to do about it. The exit code is 1 if any row is ❌.

The check changes nothing: it opens the plan and the database read-only (no migration,
no backup), looks at the directory lock without taking it from a running bot (see
`DirectoryLock.holder`), and creates no file but a probe it deletes at once. It works
before any setting is right: a variable that cannot be read is reported and the other
checks run without it. The token and passwords never reach its output (`Probe.redact`).

`--quick` (the container's HEALTHCHECK) leaves out what is slow or needs the network:
Telegram, Matrix and reading the whole database.

Matrix: `MATRIX_CHECKS` holds the Matrix front-end's rows (homeserver answers, login
works, team room joined; bot/frontends/matrix/check.py); with it empty, Matrix settings
would get one ⚠️ row.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, TextIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from bot.cli.backups import contents_text, size_text
from bot.logs import RedactToken
from bot.settings import Settings, SettingsError, settings_from_env
from workflows.backups import BACKUP_DIR, contents, list_backups
from workflows.plan import PlanError, load_plan
from workflows.storage import DirectoryLock, StoreError, database_files
from workflows.store import DB_NAME

CHECK_MODE = "check"
LOW_SPACE = 100 * 1000 * 1000  # bytes: below this the free space is a ⚠️
BACKUP_AGE_DAYS = 3  # a newer backup is expected while the bot runs (one each day it writes)
HTTP_TIMEOUT = 10.0
# Variables checked one by one, so that one bad value does not hide the others.
ID_VARIABLES = ("APBOT_TEAM_CHAT_ID", "APBOT_ALLOWED_CHAT_IDS", "APBOT_ADMIN_IDS")
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "APBOT_MATRIX_ACCESS_TOKEN", "APBOT_MATRIX_PASSWORD")
MATRIX_VARIABLES = ("APBOT_MATRIX_HOMESERVER", "APBOT_MATRIX_USER",
                    "APBOT_MATRIX_ACCESS_TOKEN", "APBOT_MATRIX_PASSWORD")

Status = Literal["ok", "warn", "fail"]
SYMBOLS: dict[Status, str] = {"ok": "✅", "warn": "⚠️", "fail": "❌"}


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


@dataclass(frozen=True)
class Row:
    """One line of the check: a finding and, for a problem, what to do."""

    status: Status
    text: str
    advice: str = ""

    def line(self) -> str:
        todo = f" Was tun: {self.advice}" if self.advice and self.status != "ok" else ""
        return f"{SYMBOLS[self.status]} {self.text}{todo}"


def ok(text: str) -> Row:
    return Row("ok", text)


def warn(text: str, advice: str = "") -> Row:
    return Row("warn", text, advice)


def fail(text: str, advice: str = "") -> Row:
    return Row("fail", text, advice)


class ApiFailure(Exception):
    """The Bot API answered with an error."""

    def __init__(self, code: int, description: str, parameters: Mapping[str, Any]) -> None:
        super().__init__(f"{code} {description}")
        self.code, self.description, self.parameters = code, description, parameters


class Unreachable(Exception):
    """No answer from the Bot API (network, DNS, timeout, not JSON)."""


@dataclass
class Probe:
    """What the checks look at; tests build it with their own environment and disk."""

    env: Mapping[str, str]
    now: datetime
    quick: bool = False
    disk_usage: Callable[[Path], DiskUsage] = field(
        default=lambda path: DiskUsage(*shutil.disk_usage(path)))
    http: httpx.Client | None = None
    settings: Settings = field(init=False)
    bad_variables: dict[str, str] = field(init=False)  # variable → German message
    me: dict[str, Any] | None = None  # getMe's answer, for the checks after it

    def __post_init__(self) -> None:
        self.bad_variables = {}
        env = dict(self.env)
        while True:
            # Each SettingsError names its variable first ("APBOT_ADMIN_IDS: …"): leave
            # that one out and read again, until the rest reads.
            try:
                self.settings = settings_from_env(env)
                break
            except SettingsError as err:
                name = str(err).partition(":")[0].strip()
                self.bad_variables[name] = str(err)
                if name not in env:  # not named as expected: the defaults, but where
                    keep = ("APBOT_DATA_DIR", "APBOT_PLAN")
                    self.settings = settings_from_env({k: env[k] for k in keep if k in env})
                    break
                del env[name]
        self.now = self.now.astimezone(self.settings.timezone)

    def redact(self, text: str) -> str:
        """`text` without the token or any other secret of the environment."""
        text = RedactToken(self.settings.token).redact(text)
        for name in SECRET_VARIABLES:
            secret = self.env.get(name, "").strip()
            if len(secret) >= 4:
                text = text.replace(secret, "<geheim>")
        return text

    def bot_api(self, method: str, **params: Any) -> Any:
        """One Bot API call; ApiFailure or Unreachable (messages without the token)."""
        assert self.settings.token is not None
        client = self.http or httpx.Client(timeout=HTTP_TIMEOUT)
        self.http = client
        url = f"{self.settings.api_base_url}{self.settings.token}/{method}"
        try:
            response = client.post(url, data={k: str(v) for k, v in params.items()})
            answer = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise Unreachable(self.redact(f"{type(err).__name__}: {err}")) from None
        if not isinstance(answer, dict):
            raise Unreachable(f"unerwartete Antwort (HTTP {response.status_code})")
        if not answer.get("ok"):
            raise ApiFailure(int(answer.get("error_code") or response.status_code),
                             self.redact(str(answer.get("description") or "")),
                             answer.get("parameters") or {})
        return answer.get("result")


Check = Callable[[Probe], Iterable[Row]]


# ---------------------------------------------------------------- settings

def runs_on_matrix(probe: Probe) -> bool:
    """apbot would run on Matrix: its settings are complete, or given without a Telegram
    token (then the Matrix rows say what is missing)."""
    settings = probe.settings
    return settings.matrix or (settings.token is None and any(
        probe.env.get(name, "").strip() for name in MATRIX_VARIABLES))


def check_settings(probe: Probe) -> Iterable[Row]:
    """Team chat, admins, other chats and the time zone: present and well-formed."""
    if runs_on_matrix(probe):
        yield from _matrix_id_rows(probe)
    else:
        yield from _telegram_id_rows(probe)
    yield from _other_settings_rows(probe)


def _telegram_id_rows(probe: Probe) -> Iterable[Row]:
    bad, settings = probe.bad_variables, probe.settings
    telegram = settings.token is not None
    if "APBOT_TEAM_CHAT_ID" in bad:
        yield fail(bad["APBOT_TEAM_CHAT_ID"], "die ID der Gruppe eintragen; apbot nennt sie, "
                   "wenn man ihm in der Gruppe /start schickt.")
    elif settings.team_chat_id is None:
        text = "APBOT_TEAM_CHAT_ID fehlt: apbot bedient keine Gruppe und postet nichts."
        advice = ("apbot zur Gruppe hinzufügen und dort /start senden: er antwortet mit der "
                  "ID der Gruppe; die in APBOT_TEAM_CHAT_ID eintragen.")
        yield fail(text, advice) if telegram else warn(text, advice)
    elif settings.team_chat_id.isdigit():  # a Telegram id without "-": a person's chat
        yield warn(f"APBOT_TEAM_CHAT_ID {settings.team_chat_id} ist ein privater Chat, keine "
                   "Gruppe (Gruppen-IDs beginnen mit -).",
                   "die ID der Gruppe eintragen; apbot nennt sie auf /start in der Gruppe.")
    else:
        yield ok(f"Team-Chat eingetragen: {settings.team_chat_id}")
    if "APBOT_ADMIN_IDS" in bad:
        yield fail(bad["APBOT_ADMIN_IDS"], "die Telegram-Nutzer-IDs der Admins, mit Komma "
                   "getrennt, eintragen.")
    elif not settings.admin_ids:
        yield warn("Keine Admins (APBOT_ADMIN_IDS): Hinweise für den Betrieb gehen in den "
                   "Team-Chat, und /vorschau darf niemand.",
                   "die Telegram-Nutzer-IDs der Admins, mit Komma getrennt, eintragen.")
    else:
        # Telegram ids of groups are negative; a person's is a plain number.
        groups = sorted(i for i in settings.admin_ids if i.startswith("-") and i[1:].isdigit())
        if groups:
            yield warn(f"APBOT_ADMIN_IDS enthält {', '.join(map(str, groups))}: das ist eine "
                       "Gruppe, keine Person.", "dort nur Nutzer-IDs von Personen eintragen.")
        else:
            yield ok(f"Admins eingetragen: {', '.join(map(str, sorted(settings.admin_ids)))}")
    if "APBOT_ALLOWED_CHAT_IDS" in bad:
        yield fail(bad["APBOT_ALLOWED_CHAT_IDS"], "Chat-IDs mit Komma getrennt eintragen.")
    elif settings.allowed_chat_ids:
        yield ok("Weitere Chats: " + ", ".join(map(str, sorted(settings.allowed_chat_ids))))


def _matrix_id_rows(probe: Probe) -> Iterable[Row]:
    """The same settings as Matrix ids: rooms `!abc:server`, people `@name:server`."""
    bad, env, settings = probe.bad_variables, probe.env, probe.settings
    server = (settings.matrix_user or "").partition(":")[2] or "server"
    room, person = f"!abc:{server}", f"@name:{server}"
    find_room = (f"in Element im Team-Raum unter Raumeinstellungen → Erweitert die interne "
                 f"Raum-ID (wie {room}) kopieren und in APBOT_TEAM_CHAT_ID eintragen.")
    admins_advice = (f"die Matrix-IDs der Admins (wie {person}) mit Komma getrennt "
                     f"eintragen – oder leer lassen: dann ist Admin, wer im Team-Raum "
                     f"Moderator oder Admin ist.")

    def not_an_id(name: str, kind: str) -> str:
        return f"{name}: „{env.get(name, '').strip()}“ ist keine Matrix-ID ({kind})."

    team = settings.team_chat_id
    if "APBOT_TEAM_CHAT_ID" in bad:
        yield fail(not_an_id("APBOT_TEAM_CHAT_ID", f"Räume: {room}"), find_room)
    elif team is None:
        yield fail("APBOT_TEAM_CHAT_ID fehlt: apbot tritt keinem Raum bei und postet nichts.",
                   find_room)
    elif team.startswith("#"):
        yield fail(f"APBOT_TEAM_CHAT_ID {team} ist eine Raum-Adresse, nicht die Raum-ID: "
                   "apbot erkennt den Raum daran nicht.", find_room)
    elif not team.startswith("!"):
        what = "eine Person" if team.startswith("@") else "keine Matrix-Raum-ID"
        yield fail(f"APBOT_TEAM_CHAT_ID {team} ist {what}, kein Raum (Raum-IDs beginnen "
                   "mit !).", find_room)
    else:
        yield ok(f"Team-Raum eingetragen: {team}")
    if "APBOT_ADMIN_IDS" in bad:
        yield fail(not_an_id("APBOT_ADMIN_IDS", f"Personen: {person}"), admins_advice)
    elif not settings.admin_ids:
        yield ok("Keine Admins eingetragen (APBOT_ADMIN_IDS): Admin ist, wer im Team-Raum "
                 "Moderator oder Admin ist (Berechtigungsstufe ab 50)")
    elif others := sorted(i for i in settings.admin_ids if not i.startswith("@")):
        yield warn(f"APBOT_ADMIN_IDS enthält {', '.join(others)}: das sind keine Personen "
                   f"(Matrix-Nutzer-IDs beginnen mit @).", admins_advice)
    else:
        yield ok(f"Admins eingetragen: {', '.join(sorted(settings.admin_ids))}")
    if "APBOT_ALLOWED_CHAT_IDS" in bad:
        yield fail(not_an_id("APBOT_ALLOWED_CHAT_IDS", f"Räume: {room}"),
                   f"die Raum-IDs (wie {room}) mit Komma getrennt eintragen.")
    elif others := sorted(i for i in settings.allowed_chat_ids if not i.startswith("!")):
        yield warn(f"APBOT_ALLOWED_CHAT_IDS enthält {', '.join(others)}: das sind keine "
                   "Raum-IDs (sie beginnen mit !).",
                   f"die internen Raum-IDs (wie {room}) eintragen, keine Adressen mit #.")
    elif settings.allowed_chat_ids:
        yield ok("Weitere Räume: " + ", ".join(sorted(settings.allowed_chat_ids)))


def _other_settings_rows(probe: Probe) -> Iterable[Row]:
    bad, env, settings = probe.bad_variables, probe.env, probe.settings
    # The Matrix rows name a bad APBOT_MATRIX_… themselves (not in --quick).
    named_later = ("APBOT_MATRIX",) if MATRIX_CHECKS and not probe.quick else ()
    for name, message in bad.items():
        if (name not in (*ID_VARIABLES, "APBOT_TIMEZONE", "TELEGRAM_BOT_TOKEN_FILE")
                and not name.startswith(named_later)):
            yield fail(message, "den Wert korrigieren (die Variablen stehen in der README).")
    if "APBOT_TIMEZONE" in bad:
        yield fail(bad["APBOT_TIMEZONE"], "eine Zeitzone wie Europe/Berlin eintragen.")
    else:
        name = getattr(settings.timezone, "key", str(settings.timezone))
        given = env.get("APBOT_TIMEZONE", "").strip()
        yield ok(f"Zeitzone {name}{'' if given else ' (Standard)'}: jetzt "
                 f"{probe.now:%d.%m.%Y %H:%M}")



# ---------------------------------------------------------------- the plan

def check_plan(probe: Probe) -> Iterable[Row]:
    """The plan file loads (else the message names entry and field)."""
    path = probe.settings.plan_path
    try:
        plan = load_plan(path)
    except PlanError as err:
        yield fail(f"Der Plan lässt sich nicht laden: {err}",
                   "die genannte Stelle in der Plandatei korrigieren (oder APBOT_PLAN "
                   "prüfen); apbot startet sonst nicht.")
        return
    yield ok(f"Plan {path}: {len(plan.work_packages)} Arbeitspakete, "
             f"{len(plan.milestones)} Meilensteine, {len(plan.meetings)} Sitzungen")


# ---------------------------------------------------------------- the data directory

def _writable(directory: Path) -> OSError | None:
    """Whether a file can be created in `directory` (tried: permissions alone do not tell
    for root or a read-only mount); the probe file is removed at once."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".apbot-check-", suffix=".tmp")
    except OSError as err:
        return err
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def _gigabytes(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{size / 1_000_000_000:.1f} GB".replace(".", ",")
    return size_text(size)


def check_data_dir(probe: Probe) -> Iterable[Row]:
    """Writable, free space, the last backup, and whether a bot runs on it."""
    data_dir = probe.settings.data_dir
    where = f"Datenverzeichnis {data_dir.resolve()}"
    advice = ("dem Benutzer, unter dem apbot läuft, Schreibrecht geben (systemd: "
              "StateDirectory=apbot; Container: das Volume unter /data).")
    if not data_dir.exists():
        parent = next((p for p in data_dir.resolve().parents if p.exists()), Path("/"))
        err = _writable(parent)
        if err is None:
            yield warn(f"Das {where} gibt es noch nicht; apbot legt es beim ersten Start an.",
                       "nichts, außer es ist der falsche Ort (APBOT_DATA_DIR).")
        else:
            yield fail(f"Das {where} gibt es nicht, und in {parent} lässt es sich nicht "
                       f"anlegen ({_reason(err)}).", advice)
        return
    if not data_dir.is_dir():
        yield fail(f"{data_dir} ist kein Verzeichnis.", "APBOT_DATA_DIR auf ein Verzeichnis "
                   "zeigen lassen.")
        return
    err = _writable(data_dir)
    unwritable = [p for p in (data_dir / DB_NAME, data_dir / "log",
                              data_dir / "log" / "journal.jsonl", data_dir / BACKUP_DIR)
                  if p.exists() and not os.access(p, os.W_OK)]
    if err is not None:
        yield fail(f"Das {where} ist nicht beschreibbar ({_reason(err)}).", advice)
    elif unwritable:
        yield fail(f"Im {where} sind nicht beschreibbar: "
                   f"{', '.join(str(p) for p in unwritable)}.", advice)
    else:
        yield ok(f"{where} ist beschreibbar")
        owner = data_dir.stat().st_uid
        if os.geteuid() == 0 and owner != 0:
            yield warn(f"Die Prüfung läuft als root, das Datenverzeichnis gehört dem Benutzer "
                       f"{_user_name(owner)}: für root ist es immer beschreibbar.",
                       "mit `apbotctl check` als Benutzer des Dienstes prüfen.")
    try:
        usage = probe.disk_usage(data_dir)
    except OSError as err:
        yield warn(f"Freier Platz unbekannt ({_reason(err)}).")
    else:
        free = _gigabytes(usage.free)
        if usage.free < LOW_SPACE:
            yield warn(f"Nur noch {free} frei auf dem Datenträger des Datenverzeichnisses.",
                       "Platz schaffen (mindestens 100 MB): bei vollem Datenträger kann "
                       "apbot keine Meldung mehr speichern und keine Sicherung anlegen.")
        else:
            yield ok(f"{free} frei")
    yield from _backup_rows(probe)
    holder = DirectoryLock(data_dir).holder()
    if holder is None:
        yield ok("Kein apbot läuft gerade auf diesem Datenverzeichnis")
    else:
        pid = f" (PID {holder})" if holder else ""
        yield ok(f"Ein apbot läuft auf diesem Datenverzeichnis{pid}")


def _backup_rows(probe: Probe) -> Iterable[Row]:
    data_dir = probe.settings.data_dir
    daily = [b for b in list_backups(data_dir) if not b.before_restore]
    has_db = bool(database_files(data_dir / DB_NAME))
    if not daily:
        if has_db:
            yield warn("Noch keine tägliche Sicherung.",
                       f"nichts, wenn apbot erst heute begonnen hat: er legt sie vor dem "
                       f"ersten Speichern eines Tages in {data_dir / BACKUP_DIR} an; sonst "
                       f"das Log auf „daily backup failed“ prüfen.")
        else:
            yield ok("Noch keine Datenbank, also auch keine Sicherung (neu eingerichtet)")
        return
    newest = daily[-1]
    age = (probe.now.date() - newest.day).days
    when = {0: "heute", 1: "gestern"}.get(age, f"vor {age} Tagen")
    text = (f"Letzte Sicherung vom {newest.day:%d.%m.%Y} ({when}), {len(daily)} "
            f"aufbewahrt in {data_dir / BACKUP_DIR}")
    if age > BACKUP_AGE_DAYS:
        yield warn(text + ".", "läuft apbot? Er sichert an jedem Tag, an dem er speichert; "
                   "sonst das Log auf „daily backup failed“ prüfen.")
    else:
        yield ok(text)


def check_database(probe: Probe) -> Iterable[Row]:
    """The database opens (read-only, as at start-up) and what it holds."""
    data_dir = probe.settings.data_dir
    if probe.quick or not database_files(data_dir / DB_NAME):
        return
    try:
        held = contents(data_dir, probe.now)
    except StoreError as err:
        yield fail(f"Die Datenbank lässt sich nicht öffnen: {err}",
                   "mit `python -m bot backups` die Sicherungen ansehen und mit "
                   "`python -m bot restore DATUM` eine zurückholen.")
        return
    yield ok(f"Datenbank öffnet sich: {contents_text(held)}")


# ---------------------------------------------------------------- Telegram

def check_telegram(probe: Probe) -> Iterable[Row]:
    """Token, bot name, team chat, membership, privacy mode, webhook."""
    settings = probe.settings
    if "TELEGRAM_BOT_TOKEN_FILE" in probe.bad_variables:
        yield fail(probe.bad_variables["TELEGRAM_BOT_TOKEN_FILE"],
                   "den Pfad prüfen, und dass der Benutzer von apbot die Datei lesen darf.")
        return
    if settings.token is not None and settings.matrix:
        yield warn("TELEGRAM_BOT_TOKEN ist gesetzt, aber mit den Matrix-Einstellungen läuft "
                   "apbot auf Matrix: das Token bleibt ungenutzt.",
                   "eines von beiden entfernen, damit klar ist, wo apbot läuft.")
        return
    if settings.token is None:
        if not any(probe.env.get(name, "").strip() for name in MATRIX_VARIABLES):
            yield warn("Kein TELEGRAM_BOT_TOKEN: apbot läuft in der Konsole, nicht in "
                       "Telegram.", "für den Betrieb das Token von @BotFather in "
                       "TELEGRAM_BOT_TOKEN eintragen.")
        return
    if probe.quick:
        return
    try:
        me = probe.bot_api("getMe")
    except Unreachable as err:
        yield fail(f"Telegram ist nicht erreichbar ({err}).",
                   "Netzwerk, Proxy und Firewall des Servers prüfen (apbot braucht "
                   f"{urlsplit(settings.api_base_url).hostname} über HTTPS).")
        return
    except ApiFailure as err:
        if err.code in (401, 404):
            yield fail("Telegram lehnt das Token ab.",
                       "bei @BotFather unter /mybots → API Token das gültige Token holen "
                       "und in TELEGRAM_BOT_TOKEN eintragen.")
        else:
            yield fail(f"Telegram antwortet auf getMe mit einem Fehler ({err}).",
                       "später noch einmal prüfen.")
        return
    probe.me = me
    yield ok(f"Telegram kennt das Token: @{me.get('username')} („{me.get('first_name')}“)")
    member = yield from _team_chat_rows(probe)
    yield _privacy_row(me, member)
    yield from _webhook_rows(probe)


def _team_chat_rows(probe: Probe) -> Generator[Row, None, dict[str, Any] | None]:
    """getChat and getChatMember for the team chat; returns the bot's membership."""
    chat_id = probe.settings.team_chat_id
    if chat_id is None or probe.me is None:
        return None
    join = ("apbot in der Gruppe hinzufügen und dort /start senden; er nennt die ID, "
            "die in APBOT_TEAM_CHAT_ID gehört.")
    for attempt in range(2):
        try:
            chat = probe.bot_api("getChat", chat_id=chat_id)
            break
        except Unreachable as err:
            yield fail(f"Team-Chat nicht geprüft: Telegram antwortet nicht ({err}).")
            return None
        except ApiFailure as err:
            moved = err.parameters.get("migrate_to_chat_id")
            if moved and attempt == 0:
                # apbot follows the move once Telegram tells it (a post's answer), but the
                # setting should say where the team is.
                yield warn(f"Die Gruppe {chat_id} ist jetzt eine Supergruppe mit der ID "
                           f"{moved}; apbot folgt ihr, sobald Telegram es ihm meldet.",
                           f"APBOT_TEAM_CHAT_ID={moved} eintragen und apbot neu starten.")
                chat_id = moved
                continue
            yield fail(f"Team-Chat {chat_id} nicht erreichbar ({err.description}): apbot "
                       "ist nicht in dieser Gruppe, oder die ID ist falsch.", join)
            return None
    kind = {"group": "Gruppe", "supergroup": "Supergruppe", "private": "privater Chat",
            "channel": "Kanal"}.get(str(chat.get("type")), str(chat.get("type")))
    title = chat.get("title") or chat.get("first_name") or ""
    yield ok(f"Team-Chat erreichbar: „{title}“ ({kind})")
    try:
        member = probe.bot_api("getChatMember", chat_id=chat_id, user_id=probe.me.get("id"))
    except (Unreachable, ApiFailure) as err:
        yield fail(f"Ob apbot Mitglied des Team-Chats ist, sagt Telegram nicht ({err}).", join)
        return None
    status = member.get("status")
    if status in ("administrator", "creator"):
        yield ok("apbot ist Mitglied des Team-Chats, als Admin")
    elif status == "member" or (status == "restricted" and member.get("is_member")):
        if status == "restricted" and not member.get("can_send_messages", True):
            yield fail("apbot ist im Team-Chat stummgeschaltet: er darf nicht schreiben.",
                       "in der Gruppe apbot das Schreiben erlauben.")
        else:
            yield ok("apbot ist Mitglied des Team-Chats")
    else:
        yield fail(f"apbot ist nicht Mitglied des Team-Chats (Telegram: „{status}“).", join)
        return None
    return dict(member)


def _privacy_row(me: Mapping[str, Any], member: Mapping[str, Any] | None) -> Row:
    if me.get("can_read_all_group_messages"):
        return ok("Datenschutzmodus aus: apbot liest alle Nachrichten der Gruppe (in einer "
                  "Gruppe erst, seit er nach dem Abschalten neu hinzugefügt wurde)")
    if member is not None and member.get("status") in ("administrator", "creator"):
        return ok("Datenschutzmodus an, aber apbot ist Admin im Team-Chat: er liest alle "
                  "Nachrichten")
    return warn("Datenschutzmodus an: apbot sieht in der Gruppe nur Befehle und Antworten an "
                "ihn, keine Meldungen wie „AP3: Einladungen verschickt“.",
                "bei @BotFather /setprivacy → Disable wählen und apbot danach aus der Gruppe "
                "entfernen und neu hinzufügen – oder apbot zum Admin der Gruppe machen.")


def _webhook_rows(probe: Probe) -> Iterable[Row]:
    try:
        info = probe.bot_api("getWebhookInfo")
    except (Unreachable, ApiFailure) as err:
        yield warn(f"Ob ein Webhook gesetzt ist, sagt Telegram nicht ({err}).")
        return
    url = str(info.get("url") or "")
    if not url:
        yield ok("Kein Webhook gesetzt: apbot holt die Nachrichten selbst ab (Long Polling)")
        return
    host = urlsplit(url).hostname or "?"
    other = ("läuft ein anderer Dienst mit diesem Token, apbot ein eigenes Token bei "
             "@BotFather geben")
    if DirectoryLock(probe.settings.data_dir).holder() is not None:
        yield fail(f"Ein Webhook an {host} ist gesetzt: solange bekommt der laufende apbot "
                   "keine Nachrichten.", f"{other}; sonst apbot neu starten (er löscht den "
                   "Webhook beim Start).")
    else:
        yield warn(f"Ein Webhook an {host} ist gesetzt; apbot löscht ihn beim Start.",
                   f"{other} – der andere Dienst bekäme sonst keine Nachrichten mehr.")


# ---------------------------------------------------------------- Matrix

# The Matrix front-end's checks (homeserver answers, login works, team room joined) go
# here; each takes the Probe and yields rows, like the Telegram checks.
def _matrix_rows(probe: Probe) -> Iterable[Row]:
    # Imported here: the front-end's module builds on this one.
    from bot.frontends.matrix.check import matrix_rows

    yield from matrix_rows(probe)


MATRIX_CHECKS: list[Check] = [_matrix_rows]


def check_matrix(probe: Probe) -> Iterable[Row]:
    """Matrix settings, once the Matrix front-end exists; until then they are pointed out."""
    if not any(probe.env.get(name, "").strip() for name in MATRIX_VARIABLES):
        return
    if not MATRIX_CHECKS:
        yield warn("Matrix-Einstellungen (APBOT_MATRIX_…) sind gesetzt, aber diese "
                   "apbot-Version spricht noch kein Matrix.", "apbot aktualisieren.")
        return
    if probe.quick:
        return
    for check in MATRIX_CHECKS:
        yield from check(probe)


CHECKS: list[Check] = [check_settings, check_plan, check_data_dir, check_database,
                       check_telegram, check_matrix]


# ---------------------------------------------------------------- the command

def add_check_parser(sub: Any) -> None:
    check = sub.add_parser(CHECK_MODE, help="prüfen, ob apbot richtig eingerichtet ist")
    check.add_argument("--quick", action="store_true",
                       help="ohne Telegram, Matrix und ohne die Datenbank ganz zu lesen "
                       "(für den HEALTHCHECK)")


def run_checks(probe: Probe, out: TextIO = sys.stdout,
               checks: Iterable[Check] = CHECKS) -> int:
    """Print one line per finding; 1 if any is ❌, else 0."""
    rows: list[Row] = []
    try:
        for check in checks:
            for row in check(probe):
                rows.append(row)
                print(probe.redact(row.line()), file=out, flush=True)
    finally:
        if probe.http is not None:
            probe.http.close()
    failed = sum(row.status == "fail" for row in rows)
    warned = sum(row.status == "warn" for row in rows)
    if failed:
        summary = f"{failed} Problem{'e' if failed > 1 else ''}, apbot läuft so nicht richtig"
    elif warned:
        summary = f"keine Probleme, {warned} Hinweis{'e' if warned > 1 else ''}"
    else:
        summary = "alles in Ordnung"
    print(f"Ergebnis: {summary}.", file=out)
    return 1 if failed else 0


def run_check(args: argparse.Namespace, env: Mapping[str, str],
              clock_for: Callable[[ZoneInfo], Callable[[], datetime]]) -> int:
    """`python -m bot check`: works whatever the settings hold."""
    tz_name = env.get("APBOT_TIMEZONE", "").strip() or "Europe/Berlin"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # reported by check_settings
        tz = ZoneInfo("Europe/Berlin")
    return run_checks(Probe(env, clock_for(tz)(), quick=args.quick))
