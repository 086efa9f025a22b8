"""A test bot for plugins: the real core, fakes only at the Matrix boundary.

`TestBot` wires what `diabot.app.App` wires — SQLite migrated with the real
Alembic migrations, the router, dispatcher, catalog, language resolver,
privacy, community directory, permissions, direct chats and the outbox — but
instead of a homeserver it has `FakeRooms` (membership, power levels, public
or private, created rooms, fetched messages) and a `FakeTransport` that
records what the outbox sent. Time-driven work runs when the test says so
(`run_jobs`), never by itself.

    bot = await TestBot.start(tmp_path, plugins=["core", "members"])
    await bot.join("@anna:x", bot.space)                 # a membership event
    replies = await bot.say("@anna:x", "!ping", room=bot.dm("@anna:x"))
    assert "pong" in replies.text
    await bot.stop()

Every user event goes through the real dispatcher (one transaction, the
error boundary); afterwards the outbox and the plugins' background workers
are awaited until idle, so what an action caused is in `bot.sent()` when the
call returns. No nio here: the harness must work without a homeserver.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import func, select, text

from .commands import Router
from .config import parse_settings
from .direct import DirectChats, direct_intent
from .directory import SPACE_SLUG, CommunityDirectory, load_themes
from .dispatch import Dispatcher
from .events import Membership, Message, Reaction, Redaction, RoomEvent
from .i18n import Catalog
from .insights import Insights
from .language import LanguageResolver
from .metrics import Metrics
from .outbox import LEAVE_EVENT, STATE_EVENT, Outbox, PermanentSendError
from .permissions import Permissions
from .plugin import Plugin, PluginConfig, Services
from .plugin_loader import load_plugin_class
from .privacy import Privacy
from .ratelimit import RateLimits
from .resources import locale_dirs
from .scheduler import Scheduler
from .storage import Database
from .storage.models import KnownRoom, RoomIntent, ThemeRoom, utcnow
from .translation import ArgosEngine, Translator
from .translation.engine import NoModel, Package

__all__ = [
    "BOT",
    "Clock",
    "FakeEngine",
    "FakeRooms",
    "FakeTransport",
    "ManualScheduler",
    "Replies",
    "Sent",
    "TestBot",
    "WordIdentifier",
    "fake_translator",
]

BOT = "@diabot:test"
SERVER = "test"

# ---- what the bot sent -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One event the outbox handed to the (fake) homeserver."""

    room_id: str
    type: str
    content: dict[str, Any]
    event_id: str

    @property
    def body(self) -> str:
        body = self.content.get("body")
        return body if isinstance(body, str) else ""

    @property
    def relates_to(self) -> dict[str, Any]:
        rel = self.content.get("m.relates_to")
        return rel if isinstance(rel, dict) else {}

    @property
    def reply_to(self) -> str | None:
        target = self.relates_to.get("m.in_reply_to", {}).get("event_id")
        return target if isinstance(target, str) else None

    @property
    def redacts(self) -> str | None:
        return self.content.get("redacts") if self.type == "m.room.redaction" else None


class Replies(list[Sent]):
    """What one action caused, in the order it was sent."""

    @property
    def bodies(self) -> list[str]:
        return [s.body for s in self if s.body]

    @property
    def text(self) -> str:
        """Every body, one after the other: for `"…" in replies.text`."""
        return "\n\n".join(self.bodies)

    def in_room(self, room_id: str) -> Replies:
        return Replies(s for s in self if s.room_id == room_id)

    def of_type(self, event_type: str) -> Replies:
        return Replies(s for s in self if s.type == event_type)


# ---- the Matrix boundary ---------------------------------------------------------------------


@dataclass
class FakeRoom:
    room_id: str
    name: str = ""
    topic: str = ""
    members: dict[str, str] = field(default_factory=dict)  # user -> join | invite
    power: dict[str, int] = field(default_factory=dict)
    creators: set[str] = field(default_factory=set)
    join_rule: str = "invite"
    world_readable: bool = False
    encrypted: bool = False
    is_direct: bool = False
    space: bool = False
    parent: str | None = None
    intent: str | None = None
    state: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)


class FakeRooms:
    """The rooms as the bot would see them from sync, and what it does to them
    directly (RoomDirectory for plugins, RoomState for permissions). Tests
    arrange the world with add_room/add_member/set_power/set_public and read
    `invites` and `created` back. `fail(method, exc)` makes the next call raise
    (e.g. TransientError for a homeserver that is down)."""

    def __init__(self, db: Database, bot_user_id: str = BOT):
        self.db = db
        self.bot_user_id = bot_user_id
        self.rooms: dict[str, FakeRoom] = {}
        self.messages: dict[str, Message] = {}  # event id -> what users said (for fetch_message)
        self.relations: dict[str, list[RoomEvent]] = {}  # event id -> events relating to it (for fetch_relations)
        self.invites: list[tuple[str, str]] = []  # (room, user) invitations the bot sent
        self.created: list[FakeRoom] = []  # rooms the bot created, in order
        self._failures: dict[str, list[list[Any]]] = {}  # method -> [[calls to let through, exception]]
        self._ids = itertools.count(1)

    # ---- arranging the world (tests) ----------------------------------------------------

    def add_room(
        self,
        room_id: str | None = None,
        *,
        name: str = "",
        members: Iterable[str] = (),
        public: bool = False,
        encrypted: bool = False,
        bot_joined: bool = True,
    ) -> str:
        room_id = room_id or f"!room{next(self._ids)}:{SERVER}"
        room = self.rooms.setdefault(room_id, FakeRoom(room_id, name=name, encrypted=encrypted))
        room.join_rule = "public" if public else room.join_rule
        if bot_joined:
            room.members[self.bot_user_id] = "join"
            room.power.setdefault(self.bot_user_id, 100)
        for user in members:
            room.members[user] = "join"
        return room_id

    def room(self, room_id: str) -> FakeRoom:
        if room_id not in self.rooms:
            self.add_room(room_id)
        return self.rooms[room_id]

    def add_member(self, room_id: str, user_id: str, membership: str = "join", display_name: str | None = None) -> None:
        room = self.room(room_id)
        room.members[user_id] = membership
        if display_name:
            room.display_names[user_id] = display_name

    def remove_member(self, room_id: str, user_id: str) -> None:
        self.room(room_id).members.pop(user_id, None)

    def set_power(self, room_id: str, user_id: str, level: int) -> None:
        """A user's power level (plugins set levels with RoomDirectory.set_power(room, levels))."""
        self.room(room_id).power[user_id] = level

    def set_public(self, room_id: str, public: bool = True) -> None:
        self.room(room_id).join_rule = "public" if public else "invite"

    def fail(self, method: str, exc: BaseException, after: int = 0) -> None:
        """A call of `method` (e.g. "create_room", "invite") raises `exc`: the
        next one, or the one after `after` calls that succeed."""
        self._failures.setdefault(method, []).append([after, exc])

    def _maybe_fail(self, method: str) -> None:
        pending = self._failures.get(method)
        if not pending:
            return
        if pending[0][0] > 0:
            pending[0][0] -= 1
            return
        _, exc = pending.pop(0)
        raise exc

    # ---- RoomState (permissions) ----------------------------------------------------------

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self.rooms.get(room_id)
        return room.power.get(user_id, 0) if room is not None else 0

    async def is_creator(self, room_id: str, user_id: str) -> bool:
        room = self.rooms.get(room_id)
        return room is not None and user_id in room.creators

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Joined or invited."""
        room = self.rooms.get(room_id)
        return room is not None and room.members.get(user_id) in ("join", "invite")

    def has_joined(self, room_id: str, user_id: str) -> bool:
        room = self.rooms.get(room_id)
        return room is not None and room.members.get(user_id) == "join"

    # ---- RoomDirectory (plugins) ----------------------------------------------------------

    def knows(self, room_id: str) -> bool:
        room = self.rooms.get(room_id)
        return room is not None and room.members.get(self.bot_user_id) == "join"

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self.rooms.get(room_id)
        name = room.display_names.get(user_id) if room is not None else None
        return name or user_id.split(":", 1)[0].lstrip("@")

    def member_count(self, room_id: str) -> int:
        room = self.rooms.get(room_id)
        return sum(1 for m in room.members.values() if m == "join") if room is not None else 0

    def is_public(self, room_id: str) -> bool:
        room = self.rooms.get(room_id)
        if room is None:
            return True  # unknown: assume the worst, as the real edge does
        return room.join_rule in ("public", "knock", "knock_restricted") or room.world_readable

    async def fetch_message(self, room_id: str, event_id: str) -> Message | None:
        message = self.messages.get(event_id)
        return message if message is not None and message.room_id == room_id else None

    def add_relation(self, event: RoomEvent) -> None:
        """What the homeserver's /relations will list for the event `event` relates to."""
        target = event.relates_to.get("event_id")
        if isinstance(target, str):
            self.relations.setdefault(target, []).append(event)

    async def fetch_relations(self, room_id: str, event_id: str, rel_type: str = "m.reference") -> list[RoomEvent]:
        self._maybe_fail("fetch_relations")
        return [
            e
            for e in self.relations.get(event_id, [])
            if e.room_id == room_id and e.relates_to.get("rel_type") == rel_type
        ]

    async def create_room(
        self,
        name: str,
        topic: str,
        *,
        intent: str,
        space: bool = False,
        parent: str | None = None,
        invite: Iterable[str] = (),
        encrypted: bool = False,
        is_direct: bool = False,
        join_rule: str | None = None,
    ) -> str:
        """Idempotent per intent, recorded in room_intents as the real edge does."""
        self._maybe_fail("create_room")
        existing = await self.find_room(intent)
        if existing is not None:
            return existing
        async with self.db.transaction() as session:
            if await session.get(RoomIntent, intent) is None:
                session.add(RoomIntent(key=intent))
        room_id = f"!{'space' if space else 'room'}{next(self._ids)}:{SERVER}"
        room = FakeRoom(
            room_id,
            name=name,
            topic=topic,
            join_rule=join_rule or "invite",
            encrypted=encrypted,
            is_direct=is_direct,
            space=space,
            parent=parent,
            intent=intent,
        )
        room.members[self.bot_user_id] = "join"
        room.power[self.bot_user_id] = 100
        room.state[("org.diabot.intent", "")] = {"key": intent}
        self.rooms[room_id] = room
        self.created.append(room)
        for user in invite:
            room.members[user] = "invite"
            self.invites.append((room_id, user))
        async with self.db.transaction() as session:
            row = await session.get(RoomIntent, intent)
            assert row is not None
            row.room_id, row.done_at = room_id, utcnow()
        return room_id

    async def find_room(self, intent: str) -> str | None:
        async with self.db.sessions() as session:
            row = await session.get(RoomIntent, intent)
        if row is not None and row.room_id and self.knows(row.room_id):
            return row.room_id
        return None

    async def put_state(self, room_id: str, event_type: str, content: dict, state_key: str = "") -> None:
        self._maybe_fail("put_state")
        self.room(room_id).state[(event_type, state_key)] = content

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict | None:
        room = self.rooms.get(room_id)
        return room.state.get((event_type, state_key)) if room is not None else None

    async def invite(self, room_id: str, user_id: str) -> bool:
        self._maybe_fail("invite")
        room = self.room(room_id)
        if room.members.get(user_id) == "join":
            return False  # the homeserver refuses: already in the room
        room.members[user_id] = "invite"
        self.invites.append((room_id, user_id))
        return True

    async def set_power_levels(self, room_id: str, levels: dict[str, int]) -> None:
        self.room(room_id).power.update(levels)


class _RoomsForPlugins:
    """FakeRooms as plugins see it: the RoomDirectory protocol's `set_power(room, levels)`
    (tests use FakeRooms.set_power(room, user, level))."""

    def __init__(self, rooms: FakeRooms):
        self._rooms = rooms

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rooms, name)

    async def set_power(self, room_id: str, levels: dict[str, int]) -> None:
        await self._rooms.set_power_levels(room_id, levels)


class FakeTransport:
    """The outbox's transport: records each event (the homeserver dedupes by
    transaction id), applies the pseudo events (state, leave) to FakeRooms.
    `refuse(room)` makes sends to a room fail for good (parked)."""

    def __init__(self, rooms: FakeRooms):
        self.rooms = rooms
        self.sent: list[Sent] = []
        self._by_txn: dict[str, str] = {}
        self._refused: set[str] = set()
        self.redacted: set[str] = set()

    def refuse(self, room_id: str) -> None:
        self._refused.add(room_id)

    async def send(self, room_id: str, event_type: str, content: dict, txn_id: str) -> str:
        if txn_id in self._by_txn:
            return self._by_txn[txn_id]
        if room_id in self._refused:
            raise PermanentSendError("M_FORBIDDEN (test)")
        event_id = f"$bot{len(self.sent) + 1}"
        if event_type == STATE_EVENT:
            self.rooms.room(room_id).state[(content["type"], content.get("state_key", ""))] = content["content"]
        elif event_type == LEAVE_EVENT:
            self.rooms.remove_member(room_id, self.rooms.bot_user_id)
            event_id = ""
        elif event_type == "m.room.redaction":
            self.redacted.add(content["redacts"])
        self._by_txn[txn_id] = event_id
        self.sent.append(Sent(room_id, event_type, dict(content), event_id))
        return event_id


# ---- time --------------------------------------------------------------------------------


@dataclass
class _Job:
    when: datetime
    interval: timedelta | None
    func: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]


class ManualScheduler(Scheduler):
    """The Scheduler's interface, but jobs run only when the test calls
    `run_due()` (after moving `clock` on, if it likes)."""

    def __init__(self, misfire_grace_s: int, now: Callable[[], datetime]):
        super().__init__(misfire_grace_s, now)
        self.jobs: dict[str, _Job] = {}

    def start(self) -> None:
        pass

    def shutdown(self) -> None:
        self.jobs.clear()

    def at(self, job_id: str, when: datetime, func: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        now = self.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when < now - timedelta(seconds=self.misfire_grace_s):
            return False
        self.jobs[job_id] = _Job(max(when, now), None, func, args)
        return True

    def every(self, job_id: str, seconds: int, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self.jobs[job_id] = _Job(self.now() + timedelta(seconds=seconds), timedelta(seconds=seconds), func, args)

    def cancel(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)

    def has(self, job_id: str) -> bool:
        return job_id in self.jobs

    async def run(self, job_id: str) -> None:
        """Run one job now, whenever it is due (a periodic one keeps its schedule)."""
        job = self.jobs[job_id]
        if job.interval is None:
            del self.jobs[job_id]
        await job.func(*job.args)

    async def run_due(self) -> list[str]:
        """Every job due by now, earliest first (a periodic one once, coalesced); their ids."""
        ran = []
        now = self.now()
        for job_id, job in sorted(self.jobs.items(), key=lambda item: item[1].when):
            if job.when > now or self.jobs.get(job_id) is not job:
                continue
            if job.interval is None:
                del self.jobs[job_id]
            else:
                job.when = now + job.interval
            await job.func(*job.args)
            ran.append(job_id)
        return ran


class Clock:
    """The time the dispatcher and scheduler see; tests move it with `advance`."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


# ---- translation without a model ---------------------------------------------------------


class FakeEngine(ArgosEngine):
    """The model boundary: installed pairs and a deterministic "translation"
    (`<sentence> [tgt]`), so the real Translator (routing, cutting,
    batching) runs without CTranslate2."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = (("nl", "de"), ("de", "nl"), ("en", "nl"), ("en", "de"))):
        self._packages = {pair: cast(Package, None) for pair in pairs}  # only the pairs are read
        self.calls: list[tuple[tuple[str, str], list[str]]] = []

    def reload(self) -> None:
        pass

    def translate_sentences(self, hop: tuple[str, str], sentences: list[str]) -> list[str]:
        if hop not in self._packages:
            raise NoModel(f"{hop[0]}->{hop[1]}")
        self.calls.append((hop, list(sentences)))
        return [f"{s} [{hop[1]}]" for s in sentences]


class WordIdentifier:
    """Language id by a few common words (tests write clear sentences)."""

    WORDS: ClassVar[dict[str, set[str]]] = {
        "nl": {"ik", "het", "een", "niet", "wij", "zijn", "hebben", "morgen", "vandaag", "graag", "met", "voor"},
        "de": {"ich", "und", "nicht", "wir", "sind", "haben", "morgen", "heute", "gerne", "mit", "für", "das"},
        "en": {"the", "and", "not", "we", "are", "have", "tomorrow", "today", "with", "for", "is", "this"},
    }

    def detect(self, text: str) -> str | None:
        words = set(text.lower().replace(",", " ").replace(".", " ").replace("!", " ").split())
        scores = {lang: len(words & vocab) for lang, vocab in self.WORDS.items()}
        best = max(scores, key=lambda lang: scores[lang])
        return best if scores[best] > 0 and list(scores.values()).count(scores[best]) == 1 else None


def fake_translator(pairs: Iterable[tuple[str, str]] | None = None) -> Translator:
    """The real Translator over FakeEngine and WordIdentifier; `pairs=()` is one without models."""
    engine = FakeEngine() if pairs is None else FakeEngine(pairs)
    return Translator(engine, WordIdentifier())


# ---- the bot ---------------------------------------------------------------------------------

_template_db: Path | None = None


async def _migrated_copy(target: Path) -> None:
    """A database migrated to head at `target`: Alembic runs once per process
    (about a second), every bot gets a copy of that file."""
    global _template_db
    if _template_db is None:
        path = Path(tempfile.mkdtemp(prefix="diabot-testbot-")) / "template.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        async with db.sessions() as session:
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        await db.close()
        _template_db = path
    shutil.copyfile(_template_db, target)


class TestBot:
    """See the module docstring. Build it with `await TestBot.start(...)`."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        tmp_path: Path,
        plugins: Iterable[str | type[Plugin[Any]]] = ("core",),
        config: dict[str, Any] | None = None,
        *,
        plugin_config: dict[str, dict[str, Any]] | None = None,
        translator: Translator | None = None,
    ) -> None:
        """The wiring (nothing runs yet): use `await TestBot.start(...)`, which also boots it."""
        # A plugin given as a class (a test's own) is used as it is; names are loaded from plugins/.
        given = {p.name: p for p in plugins if not isinstance(p, str)}
        names = list(dict.fromkeys(p if isinstance(p, str) else p.name for p in plugins))
        raw: dict[str, Any] = {
            "matrix": {"homeserver": "http://homeserver.test", "user_id": BOT, "access_token": "test"},
            "data_dir": str(tmp_path),
            "web": {"enabled": False},
            "translation": {"enabled": False},
        }
        for key, value in (config or {}).items():
            raw[key] = {**raw[key], **value} if isinstance(raw.get(key), dict) and isinstance(value, dict) else value
        raw["plugins"] = {name: (plugin_config or {}).get(name, {}) for name in names}
        self.settings = settings = parse_settings(raw, env={}, base_dir=tmp_path)
        self.db_path = tmp_path / "diabot.db"
        self.db = Database(f"sqlite+aiosqlite:///{self.db_path}")
        self.clock = Clock()
        self.metrics = Metrics()
        self.rooms = FakeRooms(self.db, BOT)
        self.transport = FakeTransport(self.rooms)
        self.outbox = Outbox(self.db, self.transport, max_retry_wait_s=0.01, metrics=self.metrics)
        self.scheduler = ManualScheduler(settings.scheduler.misfire_grace_s, self.clock)
        self.directory = CommunityDirectory(self.db, load_themes(settings.themes_file), settings.invites.space)
        self.permissions = Permissions(
            self.rooms, self.directory, settings.permissions.moderator_level, settings.bot.admins, settings.roles
        )
        self.router = Router(settings.bot.command_prefix)
        self.i18n = Catalog.from_dirs(
            locale_dirs([n for n in names if n not in given]),
            prefix=settings.bot.command_prefix,
            timezone=settings.bot.timezone,
            german_address=settings.bot.german_address,
        )
        self.translator = translator
        plugin_rooms: Any = _RoomsForPlugins(self.rooms)
        self.direct = DirectChats(plugin_rooms)
        self.insights = Insights()
        self.services = Services(
            db=self.db,
            outbox=self.outbox,
            scheduler=self.scheduler,
            permissions=self.permissions,
            i18n=self.i18n,
            languages=LanguageResolver(settings.bot.default_language),
            router=self.router,
            bot_user_id=BOT,
            settings=settings,
            rooms=plugin_rooms,
            translator=translator,
            privacy=Privacy(settings.data_dir),
            directory=self.directory,
            limits=RateLimits(settings.bot.rate_limits, exempt=frozenset(settings.bot.admins)),
            direct=self.direct,
            insights=self.insights,
        )
        self.dispatcher = Dispatcher(
            self.services,
            self.router,
            self.metrics,
            settings.bot.ignore_users,
            timezone=settings.bot.timezone,
            clock=self.clock,
        )
        self.plugins: dict[str, Plugin[Any]] = {}
        for name in names:
            plugin_cls = given.get(name) or load_plugin_class(name)
            plugin_settings: PluginConfig = plugin_cls.Config.model_validate(settings.plugins.get(name) or {})
            plugin = plugin_cls(self.services, plugin_settings)
            self.dispatcher.add_plugin(plugin)
            self.plugins[name] = plugin
        # Background work to wait for after an action, besides the outbox.
        self.busy_checks: list[Callable[[], Awaitable[bool]]] = []
        if "translate" in self.plugins:
            self.busy_checks.append(self._translations_pending)
        self._ids = itertools.count(1)
        self._started: list[Plugin[Any]] = []
        self._known_rooms: set[str] = set()

    @classmethod
    async def start(
        cls,
        tmp_path: Path,
        plugins: Iterable[str | type[Plugin[Any]]] = ("core",),
        config: dict[str, Any] | None = None,
        *,
        plugin_config: dict[str, dict[str, Any]] | None = None,
        translator: Translator | None = None,
        themes: bool = True,
        start_plugins: bool = True,
    ) -> TestBot:
        """A running bot. `config`: YAML-shaped settings merged over a minimal
        valid config (e.g. {"bot": {"admins": [...]}, "roles": {...}});
        `plugin_config`: plugins.<name> settings; a plugin may be given as a
        class (a test's own). `themes`: the space and a room per theme of the
        themes file exist already (as after the community plugin's set-up):
        `bot.space`, `bot.theme_room(slug)`. `start_plugins=False`: their
        start() (jobs, workers) is not called."""
        bot = cls(tmp_path, plugins, config, plugin_config=plugin_config, translator=translator)
        await _migrated_copy(bot.db_path)
        if themes:
            await bot._seed_themes()
        await bot.directory.load()
        bot.outbox.start()
        if start_plugins:
            for plugin in bot.plugins.values():
                await plugin.start()
                bot._started.append(plugin)
        await bot.settle()
        return bot

    async def stop(self) -> None:
        for plugin in reversed(self._started):
            await plugin.stop()
        await self.outbox.stop()
        if self.translator is not None:
            self.translator.close()
        await self.db.close()

    async def __aenter__(self) -> TestBot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- the community ------------------------------------------------------------------

    async def _seed_themes(self) -> None:
        space = self.settings.invites.space or f"!space:{SERVER}"
        self.rooms.add_room(space, name="space")
        self.rooms.rooms[space].space = True
        async with self.db.transaction() as session:
            if self.settings.invites.space is None:
                self.directory.remember(session, SPACE_SLUG, space, "space", "space")
            for theme in self.directory.configured.values():
                room_id = f"!{theme.slug}:{SERVER}"
                self.rooms.add_room(room_id, name=theme.nl.name)
                self.rooms.rooms[room_id].parent = space
                self.directory.remember(session, theme.slug, room_id, theme.nl.name, theme.de.name)
            # In the file's order, as one by one at the first start (rows made in the same microsecond
            # would be ordered by slug: "theme 2" must not depend on the machine's speed).
            await session.flush()
            first = utcnow()
            for i, slug in enumerate(self.directory.configured):
                row = await session.get(ThemeRoom, slug)
                assert row is not None
                row.created_at = first + timedelta(milliseconds=i)

    @property
    def space(self) -> str:
        space = self.directory.space_id
        assert space is not None, "no space: start the bot with themes=True"
        return space

    def theme_room(self, slug: str) -> str:
        theme = self.directory.by_slug(slug)
        assert theme is not None, f"no themed room {slug!r}"
        return theme.room_id

    def add_member(self, user_id: str, *rooms: str, display_name: str | None = None) -> None:
        """A member of the community (joined the space) without a membership event; also joined `rooms`."""
        for room_id in (self.space, *rooms):
            self.rooms.add_member(room_id, user_id, display_name=display_name)

    def make_moderator(self, user_id: str, level: int = 50) -> None:
        """Moderator of the community: power in the space."""
        self.rooms.add_member(self.space, user_id)
        self.rooms.set_power(self.space, user_id, level)

    def dm(self, user_id: str) -> str:
        """The direct chat the bot opened with `user_id` (it must exist)."""
        for room in self.rooms.created:
            if room.intent == direct_intent(user_id):
                return room.room_id
        raise LookupError(f"the bot opened no direct chat with {user_id}")

    def open_chat(self, user_id: str, room_id: str | None = None) -> str:
        """A private room of just the user and the bot (as if the user had opened it)."""
        return self.rooms.add_room(room_id, members=[user_id])

    # ---- users act ----------------------------------------------------------------------

    def _event_id(self) -> str:
        return f"$ev{next(self._ids)}"

    def _ts(self) -> int:
        return int(self.clock().timestamp() * 1000)

    async def say(
        self,
        sender: str,
        body: str,
        room: str,
        *,
        reply_to: str | None = None,
        thread: str | None = None,
        edit_of: str | None = None,
        msgtype: str = "m.text",
        event_id: str | None = None,
    ) -> Replies:
        """A message (a command or anything else); returns what the bot sent because of it."""
        content: dict[str, Any] = {"msgtype": msgtype, "body": body}
        relates: dict[str, Any] = {}
        if thread:
            relates = {"rel_type": "m.thread", "event_id": thread, "is_falling_back": reply_to is None}
            relates["m.in_reply_to"] = {"event_id": reply_to or thread}
        elif reply_to:
            relates = {"m.in_reply_to": {"event_id": reply_to}}
        if edit_of:
            relates = {"rel_type": "m.replace", "event_id": edit_of}
            content["m.new_content"] = {"msgtype": msgtype, "body": body}
        if relates:
            content["m.relates_to"] = relates
        message = Message(
            event_id=event_id or self._event_id(),
            room_id=room,
            sender=sender,
            ts=self._ts(),
            type="m.room.message",
            content=content,
            body=body,
            msgtype=msgtype,
        )
        self.rooms.messages[message.event_id] = message
        return await self.send_event(message)

    async def react(self, sender: str, target: str, key: str, room: str) -> Replies:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
        return await self.send_event(
            Reaction(self._event_id(), room, sender, self._ts(), "m.reaction", content, key=key, target=target)
        )

    async def redact(self, sender: str, target: str, room: str) -> Replies:
        self.rooms.messages.pop(target, None)
        return await self.send_event(
            Redaction(self._event_id(), room, sender, self._ts(), "m.room.redaction", {}, redacts=target)
        )

    async def join(self, user_id: str, room: str) -> Replies:
        """The user joins `room` (a membership event, the room's state updated first as sync does)."""
        return await self._membership(user_id, room, "join")

    async def leave(self, user_id: str, room: str) -> Replies:
        return await self._membership(user_id, room, "leave")

    async def _membership(self, user_id: str, room: str, membership: str) -> Replies:
        fake = self.rooms.room(room)
        before = fake.members.get(user_id)
        if membership == "leave":
            fake.members.pop(user_id, None)
        else:
            fake.members[user_id] = membership
        content = {"membership": membership}
        event = Membership(
            self._event_id(),
            room,
            user_id,
            self._ts(),
            "m.room.member",
            content,
            user_id=user_id,
            membership=membership,
            prev_membership=before,
        )
        return await self.send_event(event)

    async def send_event(self, event: RoomEvent) -> Replies:
        """Any platform-neutral event through the real dispatcher; what it caused."""
        mark = len(self.transport.sent)
        await self._known(event.room_id)
        await self.dispatcher.dispatch(event)
        await self.settle()
        return Replies(self.transport.sent[mark:])

    async def _known(self, room_id: str) -> None:
        """The sync records a room the bot is in when it first sees it (known_rooms: the room's language)."""
        if room_id in self._known_rooms or not self.rooms.knows(room_id):
            return
        async with self.db.transaction() as session:
            if await session.get(KnownRoom, room_id) is None:
                session.add(KnownRoom(room_id=room_id, joined_ts=0))
        self._known_rooms.add(room_id)

    # ---- time and background work -----------------------------------------------------

    async def run_jobs(self, advance: timedelta | None = None, job_id: str | None = None) -> Replies:
        """Move the clock on (if asked), run the due scheduler jobs (or the one
        named, now) and the deferred events; what they sent."""
        mark = len(self.transport.sent)
        if advance:
            self.clock.advance(advance)
        if job_id is not None:
            await self.scheduler.run(job_id)
        else:
            await self.scheduler.run_due()
        await self.dispatcher.run_deferred()
        await self.settle()
        return Replies(self.transport.sent[mark:])

    async def _translations_pending(self) -> bool:
        from plugins.translate.models import TranslationJob

        async with self.db.sessions() as session:
            return bool(await session.scalar(select(func.count()).select_from(TranslationJob)))

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 (a test helper's bound)
        """Until the plugins' background work is done and the outbox has sent
        every committed row (twice idle in a row: after-commit hooks run in between)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while quiet < 2:
            # Background work first: a job that finishes commits its messages before it is gone.
            busy = any([await check() for check in self.busy_checks]) or await self.outbox.pending_count() > 0
            quiet = 0 if busy else quiet + 1
            if loop.time() > deadline:
                raise TimeoutError("the test bot is still busy (outbox or a plugin's worker)")
            await asyncio.sleep(0.001 if busy else 0)

    # ---- what the bot sent ----------------------------------------------------------------

    def sent(self, room: str | None = None, event_type: str | None = None) -> Replies:
        """Everything the outbox sent (optionally: in one room, of one type)."""
        return Replies(
            s
            for s in self.transport.sent
            if (room is None or s.room_id == room) and (event_type is None or s.type == event_type)
        )

    def plugin(self, name: str) -> Plugin[Any]:
        return self.plugins[name]
