"""Who apbot serves: the team chat, allowed chats, admins.

A chat may continue under a new id — Telegram: a group becomes a supergroup; Matrix: a
room is upgraded (m.room.tombstone). The front-ends record that in the store
(`Store.record_migration`), and the team chat and the allowed chats follow it here.
"""

from __future__ import annotations

from bot.messages import Context, Incoming
from workflows.ids import ChatId, UserId


def is_admin(ctx: Context, user_id: UserId, via_console: bool = False) -> bool:
    """Admins are configured by user id; the console user is always one."""
    return via_console or user_id in ctx.settings.admin_ids


def _follow(chat_id: ChatId, migrations: dict[ChatId, ChatId]) -> ChatId:
    seen = {chat_id}
    while chat_id in migrations and migrations[chat_id] not in seen:
        chat_id = migrations[chat_id]
        seen.add(chat_id)
    return chat_id


def team_chat(ctx: Context) -> ChatId | None:
    """The team chat's id now: it may continue under a new id (supergroup, upgraded room)."""
    team = ctx.settings.team_chat_id
    return None if team is None else _follow(team, ctx.store.chat_migrations())


def served_chats(ctx: Context) -> frozenset[ChatId]:
    """The configured chats and, for those that continue under a new id, that id."""
    migrations = ctx.store.chat_migrations()
    chats = ctx.settings.chat_ids
    return chats | {_follow(c, migrations) for c in chats}


def chat_allowed(ctx: Context, msg: Incoming) -> bool:
    """Team chat, further allowed chats, private chats of admins and of the team chat's
    members (the front-end says who is one), and the console."""
    if msg.via_console or msg.chat_id in served_chats(ctx):
        return True
    return msg.chat_type == "private" and (msg.user_id in ctx.settings.admin_ids
                                           or msg.team_member)
