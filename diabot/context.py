"""What a handler gets: the event, a database session whose transaction also
records the event as handled, the user's language, and ways to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from .events import Message, RoomEvent
from .formatting import notice_contents, reply_relation

if TYPE_CHECKING:
    from .plugin import Services


@dataclass
class Context:
    event: RoomEvent
    session: AsyncSession
    lang: str
    services: Services
    queued: list = field(default_factory=list)  # outbox rows, handed over after commit

    @property
    def sender(self) -> str:
        return self.event.sender

    @property
    def room_id(self) -> str:
        return self.event.room_id

    def t(self, key: str, **params: object) -> str:
        return self.services.i18n.t(self.lang, key, **params)

    def arg_label(self, name: str) -> str:
        key = f"arg.{name}"
        return self.t(key) if self.services.i18n.has(key) else name

    def usage(self, spec) -> str:
        return self.services.router.usage(spec, self.lang, self.arg_label)

    def reply_markdown(self, markdown: str, *, mentions: list[str] | None = None) -> None:
        """Queue an m.notice answering the event (in its thread if it has one).

        Goes into this event's transaction: sent only if the handler succeeds.
        """
        relation = reply_relation(self.event.event_id, self.event.thread_root)
        self.send_markdown(self.room_id, markdown, relates_to=relation, mentions=mentions)

    def reply(self, key: str, **params: object) -> None:
        self.reply_markdown(self.t(key, **params))

    def send_markdown(
        self, room_id: str, markdown: str, *, relates_to: dict | None = None, mentions: list[str] | None = None
    ) -> None:
        for content in notice_contents(
            markdown, mentions=mentions, relates_to=relates_to, cut_note=self.t("core.output_cut")
        ):
            self.queued.append(self.services.outbox.queue(self.session, room_id, content))

    @property
    def message(self) -> Message:
        assert isinstance(self.event, Message)
        return self.event
