"""`python -m tests.support.failing_bot FAILPOINT_FILE -c CONFIG run`: the bot
as tests run it, with file-armed failpoints (diabot/failpoints.py) and
the test-only plugin `roomtest` (tests/support/roomtest) available.

Test-only knobs from the environment:
- `DIABOT_TEST_RETRY_FIRST_S`: the first back-off of a deferred event (30 s
  in production), so a transient-failure test need not wait that long.

Besides the bot's own failpoints the harness marks `before-create-room:<intent>`
(the homeserver is about to be asked for the room), so a test can make the
creation request itself fail (armed with the action `transient`)."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import plugins
import tests.support.roomtest
import tests.support.roomtest.plugin
from diabot import dispatch, failpoints
from diabot.cli import main
from diabot.matrix import creation


def mark_before_create_room() -> None:
    create = creation.RoomCreator._create

    async def create_after_failpoint(self, name, topic, intent, *args, **kwargs):
        failpoints.hit(f"before-create-room:{intent}")
        return await create(self, name, topic, intent, *args, **kwargs)

    creation.RoomCreator._create = create_after_failpoint  # type: ignore[method-assign]


if __name__ == "__main__":
    failpoints.install(failpoints.FileFailpoints(Path(sys.argv[1])))
    mark_before_create_room()
    if "DIABOT_TEST_RETRY_FIRST_S" in os.environ:
        assert isinstance(dispatch.RETRY_FIRST, timedelta), "the dispatcher's first back-off moved"
        dispatch.RETRY_FIRST = timedelta(seconds=float(os.environ["DIABOT_TEST_RETRY_FIRST_S"]))
    # Enabled like any plugin (plugins: {roomtest: {}}); it exists only in test runs.
    sys.modules["plugins.roomtest"] = tests.support.roomtest
    sys.modules["plugins.roomtest.plugin"] = tests.support.roomtest.plugin
    plugins.roomtest = tests.support.roomtest  # type: ignore[attr-defined]
    sys.exit(main(sys.argv[2:]))
