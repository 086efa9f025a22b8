"""Whom the bot accepts invites from: full MXIDs, whole servers, or
moderators of the configured space; and a direct chat from any member of the
space, whatever their homeserver (the allowlist is for rooms the bot is
brought into, not for members talking to it). Never display names."""

from __future__ import annotations

from .config import InviteSettings
from .permissions import Permissions


class InvitePolicy:
    def __init__(self, settings: InviteSettings, permissions: Permissions, admins: list[str]):
        self.users = frozenset(settings.allow_users) | frozenset(admins)
        self.servers = frozenset(settings.allow_servers)
        self.space = settings.space
        self.permissions = permissions

    async def __call__(self, room_id: str, inviter: str, is_direct: bool = False) -> bool:
        if inviter in self.users:
            return True
        if is_direct and await self.permissions.is_member(inviter):
            return True
        server = inviter.split(":", 1)[1] if ":" in inviter else ""
        if server in self.servers:
            return True
        # Moderators of the community space (configured or made by the community plugin).
        return await self.permissions.is_community_moderator(inviter)
