"""Sending anything, from an event's handler or from outside one.

Every send queues an outbox row in the current session: it is delivered only
if that transaction commits, together with the domain writes made in it.
`Context` (an event's handler) and `UnitOfWork` (a scheduled job, a
background worker) are both a `Sender`; each send returns a `Handle` that
resolves to the Matrix event id once the outbox sent it.

    async with services.work() as uow:
        poll = uow.poll(room_id, "Lunch?", ["Yes", "No"])
        uow.ledger.record(poll, "polls.start", subject=str(poll_id))
        for user_id in members:
            them = await uow.for_user(user_id)
            them.text(dm_room, them.t("polls.reminder"), mentions=[user_id])
    event_id = await poll.event_id(timeout=30)   # after the block: committed, handed to the outbox

Long markdown is split into several events (see formatting.notice_contents);
the handle of such a message is its **first part** (`handle.row`; the other
parts are in `handle.rows`): a reply points at it, an edit replaces only it,
and the ledger records every part so a retraction takes back all of them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from .formatting import notice_contents, reply_relation
from .ledger import Ledger
from .outbox import FILE_EVENT, STATE_EVENT, Outbox
from .storage.models import OutboxMessage

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from .plugin import Services

POLL_START = "org.matrix.msc3381.poll.start"
POLL_KIND_DISCLOSED = "org.matrix.msc3381.poll.disclosed"  # results visible while the poll runs
POLL_KIND_UNDISCLOSED = "org.matrix.msc3381.poll.undisclosed"  # results shown at the end
POLL_MAX_ANSWERS = 20  # Element cuts a poll to 20 answers
POLL_MAX_ANSWER_CHARS = 340
_TEXT = "org.matrix.msc1767.text"


class Handle:
    """What a send returns. `row` is the queued outbox row (the first part
    of a split message; all parts are in `rows`)."""

    __slots__ = ("_outbox", "rows")

    def __init__(self, outbox: Outbox, rows: Sequence[OutboxMessage]):
        if not rows:
            raise ValueError("a handle needs at least one outbox row")
        self._outbox = outbox
        self.rows: tuple[OutboxMessage, ...] = tuple(rows)

    @property
    def row(self) -> OutboxMessage:
        return self.rows[0]

    @property
    def outbox_id(self) -> int:
        """The first part's row id; only known once the session has flushed."""
        if self.row.id is None:
            raise RuntimeError("the outbox row has no id before the session flushed")
        return self.row.id

    async def event_id(self, timeout: float | None = None) -> str | None:  # noqa: ASYNC109 (see Outbox.event_id)
        """The event id of the first part once the outbox sent it (also for a
        row sent by an earlier process); None if it was parked or withdrawn,
        or on timeout. Await it only after the transaction committed: inside
        it the row is not even visible to the outbox, so this would wait in
        vain."""
        return await self._outbox.event_id(self.outbox_id, timeout)

    def __repr__(self) -> str:
        return f"<Handle rows={[r.id for r in self.rows]} room={self.row.room_id}>"


def relation(reply_to: str | None, thread: str | None) -> dict | None:
    """m.relates_to for an answer: a reply, in a thread when given (a thread
    message without a reply points its fallback at the thread root)."""
    if reply_to:
        return reply_relation(reply_to, thread)
    if thread:
        return {
            "rel_type": "m.thread",
            "event_id": thread,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread},
        }
    return None


def edit_content(event_id: str, new: dict) -> dict:
    """An m.replace of `event_id` whose new content is `new` (a message
    content without a relation). Clients without edits show the "* " body;
    the top-level m.mentions is empty so an edit never pings again."""
    fallback = {**new, "body": f"* {new['body']}", "m.mentions": {}}
    if "formatted_body" in new:
        fallback["formatted_body"] = f"* {new['formatted_body']}"
    return {**fallback, "m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}}


def poll_content(question: str, answers: Sequence[str], *, max_selections: int = 1, disclosed: bool = True) -> dict:
    """An MSC3381 poll start in the unstable form Element reads (the Matrix
    1.7 `m.poll` shape makes Element show nothing). Answer ids are "1".."n"
    in the given order, so a response maps back to `answers[int(id) - 1]`."""
    if not 2 <= len(answers) <= POLL_MAX_ANSWERS:
        raise ValueError(f"a poll needs 2 to {POLL_MAX_ANSWERS} answers, got {len(answers)}")
    too_long = [a for a in answers if len(a) > POLL_MAX_ANSWER_CHARS]
    if too_long:
        raise ValueError(f"poll answers are at most {POLL_MAX_ANSWER_CHARS} characters")
    if not 1 <= max_selections <= len(answers):
        raise ValueError(f"max_selections must be 1 to {len(answers)}")
    fallback = "\n".join([question, *(f"{i}. {answer}" for i, answer in enumerate(answers, 1))])
    return {
        _TEXT: fallback,
        POLL_START: {
            "kind": POLL_KIND_DISCLOSED if disclosed else POLL_KIND_UNDISCLOSED,
            "max_selections": max_selections,
            "question": {_TEXT: question, "body": question, "msgtype": "m.text"},
            "answers": [{"id": str(i), _TEXT: answer} for i, answer in enumerate(answers, 1)],
        },
        "m.mentions": {},
    }


class Sender:
    """Queues events into `session`; `queued` collects the rows to hand to
    the outbox after the commit (the dispatcher or the unit of work does)."""

    session: AsyncSession
    services: Services
    lang: str
    queued: list[OutboxMessage]

    def __init__(self, services: Services, session: AsyncSession, lang: str, queued: list[OutboxMessage]):
        self.services = services
        self.session = session
        self.lang = lang
        self.queued = queued

    # ---- language -----------------------------------------------------------------

    def t(self, key: str, **params: object) -> str:
        """A catalog text in this sender's language (the recipient's)."""
        return self.services.i18n.t(self.lang, key, **params)

    # ---- the ledger -----------------------------------------------------------------

    @property
    def ledger(self) -> Ledger:
        """What the bot sent about what, in this same transaction."""
        return Ledger(self.session, self.services.outbox, self.queued)

    # ---- sending ------------------------------------------------------------------

    def send_contents(self, room_id: str, contents: Sequence[dict], event_type: str = "m.room.message") -> Handle:
        """Contents made elsewhere (e.g. rendered in a thread), as the parts
        of one message: the handle is the first part."""
        outbox = self.services.outbox
        rows = [outbox.queue(self.session, room_id, content, event_type) for content in contents]
        self.queued.extend(rows)
        return Handle(outbox, rows)

    def send_markdown(
        self, room_id: str, markdown: str, *, relates_to: dict | None = None, mentions: list[str] | None = None
    ) -> Handle:
        """An m.notice with a relation built by the caller (`notice` builds the usual ones)."""
        return self._markdown(room_id, markdown, msgtype="m.notice", relates_to=relates_to, mentions=mentions)

    def _markdown(
        self,
        room_id: str,
        markdown: str,
        *,
        msgtype: str,
        relates_to: dict | None,
        mentions: list[str] | None,
    ) -> Handle:
        contents = notice_contents(
            markdown, mentions=mentions, relates_to=relates_to, cut_note=self.t("core.output_cut"), msgtype=msgtype
        )
        return self.send_contents(room_id, contents)

    def notice(
        self,
        room_id: str,
        markdown: str,
        *,
        reply_to: str | None = None,
        thread: str | None = None,
        mentions: list[str] | None = None,
    ) -> Handle:
        """An m.notice (markdown rendered and sanitised). Notices never notify:
        use `text` for what must reach a phone."""
        return self._markdown(
            room_id, markdown, msgtype="m.notice", relates_to=relation(reply_to, thread), mentions=mentions
        )

    def text(
        self,
        room_id: str,
        markdown: str,
        *,
        mentions: list[str] | None = None,
        reply_to: str | None = None,
        thread: str | None = None,
    ) -> Handle:
        """An m.text: notifies the room's members per their push rules; only
        the users in `mentions` are pinged (never @room)."""
        return self._markdown(
            room_id, markdown, msgtype="m.text", relates_to=relation(reply_to, thread), mentions=mentions
        )

    def react(self, room_id: str, event_id: str, key: str) -> Handle:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return self.send_contents(room_id, [content], "m.reaction")

    def redact(self, room_id: str, event_id: str, reason: str | None = None) -> Handle:
        content: dict = {"redacts": event_id}
        if reason:
            content["reason"] = reason
        return self.send_contents(room_id, [content], "m.room.redaction")

    def edit(
        self,
        room_id: str,
        event_id: str,
        markdown: str,
        *,
        msgtype: str = "m.notice",
        mentions: list[str] | None = None,
    ) -> Handle:
        """Replace the text of a message the bot sent (one event: an edit is
        cut to fit rather than split). `mentions` go into the new content
        only: an edit pings nobody (again)."""
        (new,) = notice_contents(
            markdown, max_parts=1, mentions=mentions, cut_note=self.t("core.output_cut"), msgtype=msgtype
        )
        return self.send_contents(room_id, [edit_content(event_id, new)])

    def state(self, room_id: str, event_type: str, content: dict, state_key: str = "") -> Handle:
        return self.send_contents(
            room_id, [{"type": event_type, "state_key": state_key, "content": content}], STATE_EVENT
        )

    def poll(
        self, room_id: str, question: str, answers: list[str], *, max_selections: int = 1, disclosed: bool = True
    ) -> Handle:
        """A native poll (see poll_content for the answer ids)."""
        content = poll_content(question, answers, max_selections=max_selections, disclosed=disclosed)
        return self.send_contents(room_id, [content], POLL_START)

    def file(
        self,
        room_id: str,
        filename: str,
        text: str | bytes,
        mimetype: str = "text/plain",
        *,
        image_size: tuple[int, int] | None = None,
    ) -> Handle:
        """`text` (UTF-8) or binary data uploaded as a file (encrypted in encrypted
        rooms), then an m.file; with `image_size` (width, height) an m.image.
        Binary data rides in the outbox row as base64 (a chart is tens of kB)."""
        content: dict[str, object] = {"filename": filename, "mimetype": mimetype}
        if isinstance(text, bytes):
            content["base64"] = base64.b64encode(text).decode("ascii")
        else:
            content["text"] = text
        if image_size is not None:
            content["image_size"] = list(image_size)
        return self.send_contents(room_id, [content], FILE_EVENT)

    def raw(self, room_id: str, event_type: str, content: dict) -> Handle:
        """Any room event, as given."""
        return self.send_contents(room_id, [content], event_type)


class UnitOfWork(Sender):
    """One transaction outside an event: `async with services.work() as uow`.

    Domain writes (`uow.session`) and every message queued in the block
    commit together; after the commit the messages are handed to the outbox,
    once. If the block raises, it is rolled back and nothing is sent. `t` and
    `lang` are the community's default language: use `for_user` to speak to
    a member in theirs."""

    def __init__(self, services: Services):
        self.services = services
        self.lang = services.languages.default
        self.queued = []
        self._transaction: AbstractAsyncContextManager[AsyncSession] | None = None
        self._used = False

    async def __aenter__(self) -> UnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work runs once; ask services.work() for a new one")
        self._used = True
        self._transaction = self.services.db.transaction()
        self.session = await self._transaction.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._transaction is not None
        try:
            await self._transaction.__aexit__(exc_type, exc, tb)  # commits, or rolls back on an exception
        finally:
            rows = list(self.queued)
            self.queued.clear()  # handed over at most once, whatever happens next
        if exc_type is None and rows:
            self.services.outbox.notify(rows)

    async def lang_of(self, user_id: str, room_id: str | None = None) -> str:
        """The user's language > the room's > the default."""
        return await self.services.languages.for_user(self.session, user_id, room_id)

    async def for_user(self, user_id: str, room_id: str | None = None) -> Sender:
        """A sender in this same transaction whose `t` speaks the user's language."""
        return Sender(self.services, self.session, await self.lang_of(user_id, room_id), self.queued)
