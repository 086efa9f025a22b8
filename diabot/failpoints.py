"""Crash points for tests, kept out of production: the bot calls
`failpoints.hit(name)`, which does nothing unless a test harness installed a
real implementation before starting the bot (tests/support/failing_bot.py).
Outside diabot/matrix/ so the core and plugins can mark their own steps
without importing the Matrix edge.

Names in use: `crash-before-token-save` (a batch with events was handled, its
sync token not yet saved) and `after-create-room:<intent>` (the room exists
on the homeserver, its id is not yet recorded), and the community set-up's
steps `community:space-recorded`, `community:recorded:<slug>`,
`community:child:<slug>`, `community:configured:<slug>`,
`community:invited:<slug>` (plugins/community)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import TransientError


class Failpoints:
    """The production hook: every failpoint is a no-op."""

    def hit(self, name: str) -> None:
        pass


class FileFailpoints(Failpoints):
    """Armed by writing a failpoint name into `path`, optionally followed by a
    line with what happens there. When the bot reaches that point it removes
    the file (so it fires once and the restart runs normally), then:
    `kill` (the default) dies at once, like SIGKILL: no cleanup, no flush,
    exit status 137; `transient` raises TransientError, as a homeserver that
    fails for now would at that point."""

    def __init__(self, path: Path):
        self.path = path

    def hit(self, name: str) -> None:
        try:
            armed, _, action = self.path.read_text().strip().partition("\n")
        except OSError:
            return
        if armed.strip() != name:
            return
        self.path.unlink()
        if action.strip() == "transient":
            raise TransientError(f"failpoint {name}")
        os._exit(137)


_active: Failpoints = Failpoints()


def hit(name: str) -> None:
    _active.hit(name)


def install(implementation: Failpoints) -> None:
    global _active
    _active = implementation
