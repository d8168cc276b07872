"""Matrix settings from the environment, and the Matrix secrets kept out of the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logs import RedactToken
from bot.settings import SettingsError, settings_from_env

BASE = {"APBOT_MATRIX_HOMESERVER": "https://matrix.stadt.de/",
        "APBOT_MATRIX_USER": "@apbot:stadt.de"}


def test_token_preferred_over_password() -> None:
    s = settings_from_env({**BASE, "APBOT_MATRIX_ACCESS_TOKEN": "syt_abc_def_ghi",
                           "APBOT_MATRIX_PASSWORD": "geheim"})
    assert s.matrix and s.matrix_homeserver == "https://matrix.stadt.de"
    assert s.matrix_access_token == "syt_abc_def_ghi" and s.matrix_password is None
    assert "syt_abc" not in repr(s)


def test_password_from_a_file_the_operator_names(tmp_path: Path) -> None:
    secret = tmp_path / "passwort"
    secret.write_text("sehr-geheim\n")
    s = settings_from_env({**BASE, "APBOT_MATRIX_PASSWORD_FILE": str(secret)})
    assert s.matrix and s.matrix_password == "sehr-geheim"
    assert "sehr-geheim" not in repr(s)


@pytest.mark.parametrize("env, named", [
    ({"APBOT_MATRIX_HOMESERVER": "matrix.stadt.de", "APBOT_MATRIX_USER": "@a:b",
      "APBOT_MATRIX_PASSWORD": "x"}, "APBOT_MATRIX_HOMESERVER"),
    ({**BASE, "APBOT_MATRIX_USER": "apbot", "APBOT_MATRIX_PASSWORD": "x"}, "APBOT_MATRIX_USER"),
    (BASE, "APBOT_MATRIX_ACCESS_TOKEN"),
    ({**BASE, "APBOT_MATRIX_PASSWORD_FILE": "/nicht/da"}, "APBOT_MATRIX_PASSWORD_FILE"),
])
def test_incomplete_or_wrong_matrix_settings_name_the_variable(env: dict[str, str],
                                                               named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings_from_env(env)


def test_no_matrix_without_its_variables() -> None:
    assert not settings_from_env({}).matrix


def test_matrix_secrets_are_redacted() -> None:
    redact = RedactToken(None, "syt_YXBib3Q_secretpart_0abc", "Pass-Wort-123")
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "token %s password %s other syt_b3RoZXI_zzzzzzzzzzzz_1",
                               ("syt_YXBib3Q_secretpart_0abc", "Pass-Wort-123"), None)
    redact.filter(record)
    assert record.getMessage() == "token <token> password <token> other <token>"


def test_room_ids_with_and_without_a_server() -> None:
    """Rooms of version 12 (Synapse's default) have ids without ":server"."""
    for room in ("!abcdefg:stadt.de", "!LGcUMqk8geCjVoPcp8-xVP5MbjX0-g66zwG8Uub2fdc"):
        assert settings_from_env({"APBOT_TEAM_CHAT_ID": room}).team_chat_id == room
    s = settings_from_env({"APBOT_ADMIN_IDS": "@anna:stadt.de, @bert:stadt.de"})
    assert s.admin_ids == frozenset({"@anna:stadt.de", "@bert:stadt.de"})
    with pytest.raises(SettingsError, match="APBOT_TEAM_CHAT_ID"):
        settings_from_env({"APBOT_TEAM_CHAT_ID": "!kurz"})
