"""Composition root: builds every service once, wires them, starts and stops
them in one place (reverse order on the way down)."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiohttp import web

from .commands import Router
from .config import Settings
from .direct import DirectChats
from .directory import CommunityDirectory, load_themes
from .dispatch import Dispatcher
from .i18n import Catalog
from .insights import Insights
from .invites import InvitePolicy
from .language import LanguageResolver
from .matrix import MatrixClient
from .metrics import Metrics
from .outbox import Outbox
from .permissions import Permissions
from .plugin import Plugin, Services
from .plugin_loader import plugin_configs
from .privacy import Privacy
from .ratelimit import RateLimits
from .resources import locale_dirs
from .scheduler import Scheduler
from .storage import Database
from .tasks import cancel_and_wait
from .translation.engine import MODELS_CHECK_S
from .web import build_web_app

log = logging.getLogger(__name__)


def secure_data_dir(data_dir: Path) -> None:
    """0700 for the data dir, 0600 for its files, also for those an older
    version created under the process umask (0755/0644)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for path in data_dir.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)


class App:
    def __init__(self, settings: Settings):
        self.settings = settings
        secure_data_dir(settings.data_dir)
        self.metrics = Metrics()
        self.db = Database(settings.database_url())
        self.matrix = MatrixClient(
            settings.matrix, settings.data_dir, self.db, settings.bot.max_event_age_s, self.metrics
        )
        self.outbox = Outbox(self.db, self.matrix, settings.matrix.max_retry_wait_s, self.metrics)
        self.scheduler = Scheduler(settings.scheduler.misfire_grace_s)
        self.directory = CommunityDirectory(self.db, load_themes(settings.themes_file), settings.invites.space)
        self.permissions = Permissions(
            self.matrix, self.directory, settings.permissions.moderator_level, settings.bot.admins, settings.roles
        )
        self.router = Router(settings.bot.command_prefix)
        self.translator = None
        if settings.translation.enabled:
            from .translation import build_translator

            self.translator = build_translator(settings.translation, on_fallback=self.metrics.translation_piecewise.inc)
        self.i18n = Catalog.from_dirs(
            locale_dirs(list(settings.plugins)),
            prefix=settings.bot.command_prefix,
            timezone=settings.bot.timezone,
            german_address=settings.bot.german_address,
        )
        self.services = Services(
            db=self.db,
            outbox=self.outbox,
            scheduler=self.scheduler,
            permissions=self.permissions,
            i18n=self.i18n,
            languages=LanguageResolver(settings.bot.default_language),
            router=self.router,
            bot_user_id=settings.matrix.user_id,
            settings=settings,
            rooms=self.matrix,
            translator=self.translator,
            privacy=Privacy(settings.data_dir),
            directory=self.directory,
            limits=RateLimits(settings.bot.rate_limits, exempt=frozenset(settings.bot.admins)),
            direct=DirectChats(self.matrix),
            insights=Insights(),
        )
        self.dispatcher = Dispatcher(
            self.services, self.router, self.metrics, settings.bot.ignore_users, timezone=settings.bot.timezone
        )
        self.plugins: list[Plugin[Any]] = []
        for cls, config in plugin_configs(settings).values():
            plugin = cls(self.services, config)
            self.dispatcher.add_plugin(plugin)
            self.plugins.append(plugin)
        self.invite_policy = InvitePolicy(settings.invites, self.permissions, settings.bot.admins)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.matrix.stop)
        async with AsyncExitStack() as stack:
            await self.db.migrate()
            stack.push_async_callback(self.db.close)
            await self.directory.load()
            await self.matrix.login()
            stack.push_async_callback(self.matrix.close)
            self.scheduler.start()
            stack.callback(self.scheduler.shutdown)
            if self.translator is not None:
                stack.callback(self.translator.close)
                # Models installed while the bot runs (`diabot models install`) are picked up.
                self.scheduler.every("translation.models", MODELS_CHECK_S, self.translator.refresh_models)
            # Keep handled_events to the replay window (plus a margin).
            window = 2 * self.settings.bot.max_event_age_s
            self.scheduler.every("core.prune", 3600, self.dispatcher.prune, window)
            # Events a passive handler could not finish for a transient reason (each has its own back-off).
            self.scheduler.every("core.deferred", 15, self.dispatcher.run_deferred)
            for plugin in self.plugins:
                await plugin.start()
                stack.push_async_callback(plugin.stop)
            self.outbox.start()
            stack.push_async_callback(self.outbox.stop)
            if self.settings.web.enabled:
                runner = web.AppRunner(build_web_app(self), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, self.settings.web.host, self.settings.web.port).start()
                stack.push_async_callback(runner.cleanup)
            log.info(
                "diabot running", extra={"user_id": self.matrix.user_id, "plugins": [p.name for p in self.plugins]}
            )
            sync = asyncio.create_task(self.matrix.run(self.dispatcher.dispatch, self.invite_policy))
            stop = asyncio.create_task(self.matrix.stopping.wait())
            done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
            failure = sync.exception() if sync in done and not sync.cancelled() else None
            # Wait for the sync task to unwind before the exit stack closes the
            # database and the client it may still be using.
            await cancel_and_wait(sync)
            await cancel_and_wait(stop)
            if failure is not None:
                raise failure
            log.info("diabot stopping")
