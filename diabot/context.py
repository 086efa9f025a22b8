"""What a handler gets: the event, a database session whose transaction also
records the event as handled, the user's language, and ways to answer.

A Context is a Sender (diabot/sending.py) bound to the event's transaction
and the sender's language: whatever it queues is sent only if the handler
succeeds, and is handed to the outbox by the dispatcher after the commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from .events import Message, RoomEvent
from .formatting import code_span
from .sending import Handle, Sender
from .storage.models import OutboxMessage

if TYPE_CHECKING:
    from .commands import CommandSpec
    from .plugin import Services


@dataclass
class Context(Sender):
    event: RoomEvent
    session: AsyncSession
    lang: str
    services: Services
    queued: list[OutboxMessage] = field(default_factory=list)  # outbox rows, handed over after commit

    @property
    def sender(self) -> str:
        return self.event.sender

    @property
    def room_id(self) -> str:
        return self.event.room_id

    def arg_label(self, name: str) -> str:
        key = f"arg.{name}"
        return self.t(key) if self.services.i18n.has(key) else name

    def usage(self, spec: CommandSpec) -> str:
        return self.services.router.usage(spec, self.lang, self.arg_label)

    def usage_markdown(self, spec: CommandSpec) -> str:
        """The usage line as code, and below it the words a choice takes in the user's language."""
        router = self.services.router
        lines = [code_span(self.usage(spec)), *router.choice_lines(spec, self.lang, self.arg_label)]
        return "  \n".join(lines)

    def reply_markdown(self, markdown: str, *, mentions: list[str] | None = None) -> Handle:
        """Queue an m.notice answering the event (in its thread if it has one)."""
        return self.notice(
            self.room_id, markdown, reply_to=self.event.event_id, thread=self.event.thread_root, mentions=mentions
        )

    def reply(self, key: str, **params: object) -> Handle:
        return self.reply_markdown(self.t(key, **params))

    @property
    def message(self) -> Message:
        assert isinstance(self.event, Message)
        return self.event
