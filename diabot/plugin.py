"""Plugin base class and the services a plugin receives in its constructor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from .insights import Insights
from .sending import UnitOfWork

if TYPE_CHECKING:
    from .commands import Router
    from .config import Settings
    from .direct import DirectChats
    from .directory import CommunityDirectory
    from .events import Message, RoomEvent
    from .i18n import Catalog
    from .language import LanguageResolver
    from .outbox import Outbox
    from .permissions import Permissions
    from .privacy import Privacy
    from .ratelimit import RateLimits
    from .scheduler import Scheduler
    from .storage import Database
    from .translation import Translator


class RoomDirectory(Protocol):
    """What plugins may ask and do about rooms (implemented at the Matrix edge)."""

    def display_name(self, room_id: str, user_id: str) -> str: ...

    def member_count(self, room_id: str) -> int: ...

    def is_public(self, room_id: str) -> bool: ...

    def is_member(self, room_id: str, user_id: str) -> bool: ...

    def has_joined(self, room_id: str, user_id: str) -> bool: ...

    async def fetch_message(self, room_id: str, event_id: str) -> Message | None: ...

    async def fetch_relations(self, room_id: str, event_id: str, rel_type: str = "m.reference") -> list[RoomEvent]:
        """Every event relating to `event_id` with `rel_type` (all pages of `/relations`),
        decrypted where the bot has the keys; raises TransientError when the homeserver fails."""
        ...

    def knows(self, room_id: str) -> bool: ...

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
        """Idempotent per `intent` (e.g. "community.space"): created at most once, across stops."""
        ...

    async def find_room(self, intent: str) -> str | None: ...

    async def put_state(self, room_id: str, event_type: str, content: dict, state_key: str = "") -> None: ...

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict | None: ...

    async def invite(self, room_id: str, user_id: str) -> bool: ...

    async def set_power(self, room_id: str, levels: dict[str, int]) -> None: ...


class PluginConfig(BaseModel):
    """Base for a plugin's own settings (plugins.<name> in the YAML)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, kw_only=True)
class Services:
    """Built once, in diabot/app.py (the composition root); every service is
    always there except the translator (translation can be switched off)."""

    db: Database
    outbox: Outbox
    scheduler: Scheduler
    permissions: Permissions
    i18n: Catalog
    languages: LanguageResolver
    router: Router
    bot_user_id: str
    settings: Settings
    rooms: RoomDirectory
    privacy: Privacy
    directory: CommunityDirectory
    limits: RateLimits
    direct: DirectChats
    translator: Translator | None
    # What plugins contribute to the digest and the working document (diabot/insights.py).
    insights: Insights = field(default_factory=Insights)

    def work(self) -> UnitOfWork:
        """One transaction outside an event (scheduled jobs, workers):
        `async with services.work() as uow:` (see diabot/sending.py)."""
        return UnitOfWork(self)


ConfigT = TypeVar("ConfigT", bound=PluginConfig)


class Plugin(Generic[ConfigT]):
    """Subclasses declare commands with @command and handlers with @on.

    `class TranslatePlugin(Plugin[TranslateConfig])`: the type argument is the
    schema of the plugin's settings (plugins.<name> in the YAML), so
    `self.config` is typed; `Config` is that class (set from the argument).
    name: the folder name under plugins/.
    """

    name: str = ""
    Config: type[ConfigT]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Config" not in vars(cls):
            cls.Config = cast("type[ConfigT]", _config_argument(cls))

    def __init__(self, services: Services, config: ConfigT):
        self.services = services
        self.config: ConfigT = config

    async def start(self) -> None:
        """Called once after the database is migrated; rebuild jobs here."""

    async def stop(self) -> None:
        """Called once at shutdown, in reverse order of start."""


def _config_argument(cls: type) -> type[PluginConfig]:
    """The X of `class P(Plugin[X])`; else the Config inherited (a bare `Plugin`: PluginConfig)."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, type) and issubclass(origin, Plugin):
            (argument,) = get_args(base)
            if isinstance(argument, type) and issubclass(argument, PluginConfig):
                return argument
    inherited: type[PluginConfig] | None = getattr(cls, "Config", None)
    return inherited if inherited is not None else PluginConfig
