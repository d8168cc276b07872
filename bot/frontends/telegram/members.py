"""Who is in the team chat: getChatMember, remembered for a while.

Members of the team chat may talk to apbot in a private chat too. Telegram is asked
once per person and then every few minutes, not at every message.
"""

from __future__ import annotations

import logging
import time

from telegram import Bot
from telegram.error import TelegramError

from workflows.ids import ChatId, UserId

log = logging.getLogger(__name__)
KEPT = 600.0  # seconds an answer is remembered
KEPT_AFTER_ERROR = 60.0
IN_CHAT = {"creator", "administrator", "member"}


class Members:
    """Asks Telegram whether a user is in the team chat, and remembers the answer."""

    def __init__(self) -> None:
        self._known: dict[tuple[ChatId, UserId], tuple[bool, float]] = {}

    async def is_member(self, bot: Bot, chat_id: ChatId, user_id: UserId) -> bool:
        key = (chat_id, user_id)
        known = self._known.get(key)
        now = time.monotonic()
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await bot.get_chat_member(chat_id, int(user_id))  # Telegram's are numbers
        except (TelegramError, ValueError, TypeError, AttributeError, KeyError) as err:
            # Not a member as far as we can tell (also for an answer we cannot read);
            # asked again soon.
            log.warning("could not check whether %s is in the team chat: %s", user_id, err)
            self._known[key] = (False, now + KEPT_AFTER_ERROR)
            return False
        status = str(member.status)
        answer = status in IN_CHAT or (status == "restricted"
                                       and bool(getattr(member, "is_member", False)))
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[key] = (answer, now + KEPT)
        return answer
