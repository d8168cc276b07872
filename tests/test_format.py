"""German formats and Telegram HTML: dates, day counts, escaping, splitting long messages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.format import (
    TELEGRAM_LIMIT,
    ago,
    day,
    esc,
    short_day,
    split_message,
    to_plain,
    trim,
    until,
)

ENTITY = re.compile(r"&(?:amp|lt|gt);")


def no_cut_entity(part: str) -> bool:
    """Every "&" in a part starts a complete entity."""
    return all(ENTITY.match(part, m.start()) for m in re.finditer("&", part))


# -- dates and day counts ----------------------------------------------------------------------


def test_day() -> None:
    assert day(date(2026, 12, 31)) == "Do., 31.12.2026"
    assert day(date(2027, 1, 4)) == "Mo., 04.01.2027"


def test_day_names_every_weekday() -> None:
    monday = date(2026, 11, 23)
    names = [day(monday + timedelta(days=i)).split(",")[0] for i in range(7)]
    assert names == ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."]


def test_short_day() -> None:
    assert short_day(date(2026, 3, 5)) == "05.03.2026"


@pytest.mark.parametrize(("days_left", "text"), [
    (0, "heute"),
    (1, "morgen"),
    (2, "in 2 Tagen"),
    (35, "in 35 Tagen"),
    (-1, "seit 1 Tag überfällig"),
    (-12, "seit 12 Tagen überfällig"),
    (-330, "seit 330 Tagen überfällig"),
])
def test_until(days_left: int, text: str) -> None:
    assert until(days_left) == text


@pytest.mark.parametrize(("days_past", "text"), [
    (0, "heute"), (-1, "heute"), (1, "gestern"), (2, "vor 2 Tagen"), (30, "vor 30 Tagen"),
])
def test_ago(days_past: int, text: str) -> None:
    assert ago(days_past) == text


def test_trim() -> None:
    assert trim("kurz", 10) == "kurz"
    assert trim("genau zehn", 10) == "genau zehn"
    assert trim("ein etwas längerer Text", 10) == "ein etwas…"
    assert len(trim("x" * 500, 300)) == 300


# -- escaping and plain text ------------------------------------------------------------------


def test_esc() -> None:
    assert esc("<b>fett</b> & Co") == "&lt;b&gt;fett&lt;/b&gt; &amp; Co"
    assert esc('„AP3“ "zitiert" \'so\'') == '„AP3“ "zitiert" \'so\''  # quotes need no escape
    assert esc("&amp;") == "&amp;amp;"  # escaping twice shows what was typed


def test_to_plain() -> None:
    html = "<b>AP 3 · Bildungskonferenzen</b>\n<i>Zitat &lt;b&gt; &amp; mehr</i>\n<s>alt</s>"
    assert to_plain(html) == "AP 3 · Bildungskonferenzen\nZitat <b> & mehr\nalt"


@given(st.text())
def test_to_plain_undoes_esc(text: str) -> None:
    assert to_plain(esc(text)) == text


# -- splitting long messages ---------------------------------------------------------------


def test_short_message_is_one_part() -> None:
    assert split_message("<b>kurz</b>\nund gut") == ["<b>kurz</b>\nund gut"]
    assert split_message("x" * TELEGRAM_LIMIT) == ["x" * TELEGRAM_LIMIT]


def test_long_multiline_html_splits_at_line_boundaries() -> None:
    lines = [f"• <b>AP {i % 13 + 1}</b> Meldung Nr. {i}: Einladungen &amp; Räume &lt;ok&gt;"
             for i in range(200)]
    message = "\n".join(lines)
    assert len(message) > 10_000
    parts = split_message(message)
    assert len(parts) >= 3
    assert all(len(p) <= TELEGRAM_LIMIT for p in parts)
    # whole lines only: each part's lines are lines of the input, in order
    assert [line for p in parts for line in p.split("\n")] == lines
    assert "".join(parts).replace("\n", "") == message.replace("\n", "")
    assert "\n".join(parts) == message
    for p in parts:
        assert p.count("<b>") == p.count("</b>")
        assert no_cut_entity(p)


def test_split_message_is_greedy() -> None:
    line = "y" * 1000
    parts = split_message("\n".join([line] * 9))
    # four lines of 1000 plus three newlines fit in 4096
    assert [len(p) for p in parts] == [4003, 4003, 1000]


def test_single_line_without_spaces_is_cut() -> None:
    line = "x" * 5000
    parts = split_message(line)
    assert parts == ["x" * TELEGRAM_LIMIT, "x" * (5000 - TELEGRAM_LIMIT)]


def test_single_long_line_is_cut_at_a_space() -> None:
    words = " ".join(f"wort{i:04d}" for i in range(600))  # 5399 characters
    parts = split_message(words)
    assert len(parts) == 2
    assert all(len(p) <= TELEGRAM_LIMIT for p in parts)
    assert " ".join(parts) == words
    assert re.fullmatch(r"(wort\d{4} )*wort\d{4}", parts[0])


def test_an_entity_is_never_cut() -> None:
    line = "x" * (TELEGRAM_LIMIT - 3) + "&amp;" + "y" * 100  # the cut would fall inside "&amp;"
    parts = split_message(line)
    assert parts == ["x" * (TELEGRAM_LIMIT - 3), "&amp;" + "y" * 100]
    only_entities = "&lt;" * 2000
    parts = split_message(only_entities)
    assert "".join(parts) == only_entities
    assert all(len(p) <= TELEGRAM_LIMIT and no_cut_entity(p) for p in parts)


def test_empty_message() -> None:
    assert split_message("") == [""]


_word = st.one_of(
    st.text(alphabet="abcäöüß0123456789.,:–", min_size=1, max_size=12),
    st.sampled_from(["&amp;", "&lt;", "&gt;", "<b>AP 3</b>", "60 %"]),
)
_line = st.lists(_word, max_size=30).map(" ".join)


@given(lines=st.lists(_line, min_size=1, max_size=30), limit=st.integers(min_value=12,
                                                                       max_value=200))
def test_split_message_properties(lines: list[str], limit: int) -> None:
    message = "\n".join(lines)
    parts = split_message(message, limit)
    assert all(len(p) <= limit for p in parts)
    assert all(no_cut_entity(p) for p in parts)
    # nothing is lost but the newlines and spaces at the cuts
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", message)
