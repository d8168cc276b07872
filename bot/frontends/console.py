"""The terminal front-end: you are an admin member of the team chat; no account needed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TextIO

from bot.core import SORRY, Core
from bot.messages import Attachment, ButtonPress, Frontend, Incoming, Reply
from bot.render.format import to_plain

log = logging.getLogger(__name__)
CONSOLE_CHAT_ID = "0"
CONSOLE_USER_ID = "0"
# A terminal takes a text of any length; buttons are pressed with /taste; a line once
# sent cannot be edited.
CONSOLE = Frontend("console", max_length=None, edits=False)
PRESS = "/taste"  # "/taste plan:ok:3" presses a button in the console
GREETING = ("apbot – Konsole auf dem Plan „{plan}“.\n"
            "Schreiben Sie z. B. /status AP3, /plan oder /hilfe. Beenden mit Strg+D.")


class Console:
    """Feeds lines to the core as messages in the team chat and prints the answers."""

    def __init__(self, core: Core, clock: Callable[[], datetime], out: TextIO,
                 user_name: str | None = None) -> None:
        self.core = core.with_frontend(CONSOLE)
        self.clock = clock
        self.out = out
        # Reports typed here carry this name (APBOT_CONSOLE_NAME, else the login name).
        self.user_name = user_name or core.ctx.settings.console_name
        self._last_id = 0

    def _message_id(self, now: datetime) -> str:
        # Negative and time-based: unique across console runs, and never equal to a
        # Telegram message id (always positive) in the same team chat.
        self._last_id = min(self._last_id - 1, -int(now.timestamp() * 1000))
        return str(self._last_id)

    def incoming(self, text: str, now: datetime) -> Incoming:
        team = self.core.ctx.settings.team_chat_id
        return Incoming(
            text=text, chat_id=team if team is not None else CONSOLE_CHAT_ID,
            user_id=CONSOLE_USER_ID, user_name=self.user_name, chat_type="group",
            message_id=self._message_id(now), date=now, via_console=True,
        )

    def save(self, file: Attachment) -> str:
        """Files land in <data dir>/exports: a terminal cannot show them."""
        try:
            data = file.data
        except Exception:
            if not file.fallback_text:
                raise
            log.exception("rendering %s failed; showing the text instead", file.filename)
            return to_plain(file.fallback_text)
        folder = self.core.ctx.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file.filename
        path.write_bytes(data)
        return f"{to_plain(file.caption)}\nDatei gespeichert: {path}"

    def press(self, data: str, now: datetime) -> None:
        """`/taste plan:ok:3`: the console's way of pressing a button."""
        team = self.core.ctx.settings.team_chat_id
        result = self.core.press(ButtonPress(data, team if team is not None else CONSOLE_CHAT_ID,
                                             CONSOLE_USER_ID, self.user_name, via_console=True),
                                 now)
        print(to_plain(result.new_text or result.notice), file=self.out)
        for _, reply in result.posts:
            print(to_plain(reply.text), file=self.out)
            self._print_buttons(reply)
        print(file=self.out)
        self.out.flush()

    def _print_buttons(self, reply: Reply) -> None:
        for button in reply.buttons:
            print(f"  [{button.label}] – in der Konsole: {PRESS} {button.data}", file=self.out)

    def say(self, text: str) -> None:
        """Answer one line; a failure is logged and apologised for, never fatal."""
        now = self.clock()
        if text.strip().lower().startswith(PRESS + " "):
            try:
                self.press(text.strip()[len(PRESS) + 1:].strip(), now)
            except Exception:
                log.exception("handler failed for a console button")
                print(SORRY, file=self.out)
            return
        try:
            replies = self.core.handle(self.incoming(text, now), now)
        except Exception:
            log.exception("handler failed for console input")
            replies = []
            print(SORRY, file=self.out)
        for reply in replies:
            if reply.attachment is not None:
                print(self.save(reply.attachment), file=self.out)
                continue
            print(to_plain(reply.text), file=self.out)
            self._print_buttons(reply)
        if replies:
            print(file=self.out)
        self.out.flush()

    def run(self, lines: Iterable[str], greet: bool = False) -> None:
        """Answer every non-empty line until the input ends."""
        if greet:
            print(GREETING.format(plan=self.core.ctx.plan.source), file=self.out)
        for line in lines:
            if line.strip():
                self.say(line.rstrip("\n"))


def prompted_lines(prompt: str = "> ") -> Iterator[str]:
    """Lines typed at a terminal, with line editing; ends on Ctrl+D or Ctrl+C."""
    while True:
        try:
            yield input(prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return
