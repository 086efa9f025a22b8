"""Crash points for tests, kept out of production: the bot calls
`failpoints.hit(name)`, which does nothing unless a test harness installed a
real implementation before starting the bot (tests/support/failing_bot.py).
Outside diabot/matrix/ so the core and plugins can mark their own steps
without importing the Matrix edge.

Names in use: `crash-before-token-save` (a batch with events was handled, its
sync token not yet saved) and `after-create-room:<intent>` (the room exists
on the homeserver, its id is not yet recorded)."""

from __future__ import annotations

import os
from pathlib import Path


class Failpoints:
    """The production hook: every failpoint is a no-op."""

    def hit(self, name: str) -> None:
        pass


class FileFailpoints(Failpoints):
    """Armed by writing a failpoint name into `path`; when the bot reaches that
    point it removes the file (so the restart runs normally) and dies at once,
    like SIGKILL: no cleanup, no flush, exit status 137."""

    def __init__(self, path: Path):
        self.path = path

    def hit(self, name: str) -> None:
        try:
            armed = self.path.read_text().strip() == name
        except OSError:
            return
        if armed:
            self.path.unlink()
            os._exit(137)


_active: Failpoints = Failpoints()


def hit(name: str) -> None:
    _active.hit(name)


def install(implementation: Failpoints) -> None:
    global _active
    _active = implementation
