"""The one conversation core behind every front-end: message in, German HTML replies out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot import meetings, plan_commands, questions, reports
from bot.access import chat_allowed, is_admin, served_chats
from bot.messages import (
    ButtonPress,
    Commands,
    Context,
    Frontend,
    Incoming,
    PressResult,
    Reply,
)
from bot.render import workbook
from bot.render.format import esc, split_message
from workflows.plan import Plan
from workflows.storage import StoreWriteError

log = logging.getLogger(__name__)


NOT_FOR_YOU = ("Ich arbeite nur für das Koordinierungsteam Bildungskommunen und antworte hier "
               "nicht (Chat-ID {chat_id}).")
WRITE_FAILED = ("Das konnte ich gerade nicht speichern – der Datenträger meldet einen Fehler. "
                "Bisher Gespeichertes ist unversehrt; bitte später noch einmal senden.")
SORRY = "Entschuldigung, da ist bei mir etwas schiefgegangen. Bitte versuchen Sie es noch einmal."


def _split(reply: Reply, frontend: Frontend) -> list[Reply]:
    """Long texts as several messages; the buttons go with the first, files stay whole."""
    if reply.attachment is not None or frontend.max_length is None:
        return [reply]
    return [Reply(part, reply.buttons if i == 0 else ())
            for i, part in enumerate(split_message(reply.text, frontend.max_length))]


def is_workbook(file_name: str) -> bool:
    return file_name.lower().endswith(".xlsx")


def split_command(text: str) -> tuple[str, str]:
    """("status", "AP3") from "/status AP3" (the front-end has made it this form)."""
    head, _, args = text.strip().partition(" ")
    if "\n" in head:
        head, _, rest = head.partition("\n")
        args = f"{rest} {args}".strip()
    return head[1:].lower(), args.strip()


def is_addressed(msg: Incoming, ctx: Context | None = None) -> bool:
    """Private chat, a mention of the bot, a reply to it, or "Bot," or "?" at the start.

    With `ctx` (in a chat apbot serves), also a question in the group about the plan
    without any of these: "Wann ist die nächste BiKo?", not "Wer bringt Kuchen mit?".
    """
    if msg.chat_type == "private" or msg.reply_to_bot or msg.mentions_bot or msg.via_console:
        return True
    text = msg.text.strip()
    if text.lower().startswith(("bot,", "bot:", "?")):
        return True
    # A reply to a colleague's message or a mention of someone else asks that person.
    return (ctx is not None and msg.reply_to_user is None and not msg.mentions_other
            and "@" not in text and questions.asks_about_plan(ctx, text))


class Core:
    """Turns an incoming message into replies; the same for every front-end."""

    def __init__(self, ctx: Context, commands: Commands) -> None:
        self.ctx = ctx
        self.commands = commands
        # Told when the plan changes (the post scheduler plans from the new one).
        self.plan_listeners: list[Callable[[Plan], None]] = []
        # Told when a message may have changed what is posted when (a meeting ended, an
        # action item with a due date): the post scheduler looks again at once.
        self.post_listeners: list[Callable[[], None]] = []

    def with_frontend(self, frontend: Frontend) -> Core:
        """A core that shapes its answers to what `frontend` can take."""
        return self._with(replace(self.ctx, frontend=frontend))

    def _with(self, ctx: Context) -> Core:
        core = Core(ctx, self.commands)
        core.plan_listeners = self.plan_listeners
        core.post_listeners = self.post_listeners
        return core

    def handle(self, msg: Incoming, now: datetime) -> list[Reply]:
        """All replies to one message; an empty list means: stay silent."""
        if msg.is_bot:
            return []
        ctx = self.ctx
        text = msg.text.strip()
        command = split_command(text) if text.startswith("/") else None
        if not chat_allowed(ctx, msg):
            if command or is_addressed(msg):
                return [Reply(NOT_FOR_YOU.format(chat_id=msg.chat_id))]
            return []
        if msg.edited and command:
            # An edited command was already answered once; an edited /aufgabe corrects it.
            corrected = meetings.on_edited_command(ctx, msg, command[0], command[1], now)
            return [Reply(corrected)] if isinstance(corrected, str) and corrected else (
                corrected if isinstance(corrected, list) else [])
        try:
            if msg.file is not None and not msg.edited and is_workbook(msg.file.name):
                result = workbook.workbook_sent(ctx, msg, msg.file.data, now)
            elif command:
                result = self._run(command[0], command[1], msg, now)
            else:
                result = self._chat(msg, now)
        except StoreWriteError as err:
            log.error("store write failed: %s", err)
            result = WRITE_FAILED
        if isinstance(result, str):
            result = [Reply(result)] if result else []
        return [part for r in result for part in _split(r, ctx.frontend)]

    def _run(self, name: str, args: str, msg: Incoming, now: datetime) -> list[Reply] | str:
        command = self.commands.by_name.get(name)
        if command is None:
            return f"Den Befehl /{esc(name)} kenne ich nicht. Mit /hilfe sehen Sie, was ich kann."
        result = command.handler(self.ctx, msg, args, now)
        if command in meetings.COMMANDS:
            self._posts_may_change()
        return result

    def _posts_may_change(self) -> None:
        for listener in self.post_listeners:
            listener()

    def _chat(self, msg: Incoming, now: datetime) -> list[Reply] | str:
        ctx = self.ctx
        # "TOP: …", "Beschluss: …" while a meeting runs, "erledigt" to an action item:
        # explicit forms, taken before questions and report recognition see the text.
        taken = meetings.on_text(ctx, msg, now)
        if taken is not None:
            self._posts_may_change()
            return taken
        addressed = is_addressed(msg, ctx)
        # A question is answered and never recorded, whatever AP it names: "@apbot Status
        # AP 11", "Ist AP 3 fertig?". Decided here, before recognition sees the text.
        if addressed and not msg.edited and questions.asks(ctx, msg):
            return questions.reply(ctx, msg, now)
        recorded = reports.on_text(ctx, msg, now)
        if recorded is not None:
            return recorded
        if msg.edited or not addressed:
            return []
        return questions.reply(ctx, msg, now)

    def press(self, press: ButtonPress, now: datetime) -> PressResult:
        """An inline button was pressed."""
        admin = is_admin(self.ctx, press.user_id, press.via_console)
        if not (press.via_console or press.chat_id in served_chats(self.ctx) or admin
                or press.team_member):
            return PressResult(NOT_FOR_YOU.format(chat_id=press.chat_id))
        try:
            if press.data.startswith(f"{plan_commands.PLAN}:"):
                result = plan_commands.on_press(self.ctx, press, now, admin)
            elif press.data.startswith(f"{meetings.MTG}:"):
                result = meetings.on_press(self.ctx, press, now, admin)
            else:
                result = reports.on_press(self.ctx, press, now, admin)
        except StoreWriteError as err:
            log.error("store write failed: %s", err)
            return PressResult(WRITE_FAILED)
        except OSError as err:  # the plan file could not be written
            log.error("plan file write failed: %s", err)
            return PressResult("Der Plan ließ sich nicht speichern.",
                               "⚠️ Der Plan ließ sich nicht speichern (der Datenträger meldet "
                               "einen Fehler). Er ist unverändert.")
        if result.plan is not None:
            self.set_plan(result.plan)
        return result

    def set_plan(self, plan: Plan) -> None:
        """From now on the bot works from `plan`: answers, posts and files."""
        self.ctx = replace(self.ctx, plan=plan)
        for listener in self.plan_listeners:
            listener(plan)
