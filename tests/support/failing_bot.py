"""`python -m tests.support.failing_bot FAILPOINT_FILE -c CONFIG run`: the bot
as tests run it, with file-armed failpoints (diabot/failpoints.py) and
the test-only plugin `roomtest` (tests/support/roomtest) available."""

import sys
from pathlib import Path

import plugins
import tests.support.roomtest
import tests.support.roomtest.plugin
from diabot import failpoints
from diabot.cli import main

if __name__ == "__main__":
    failpoints.install(failpoints.FileFailpoints(Path(sys.argv[1])))
    # Enabled like any plugin (plugins: {roomtest: {}}); it exists only in test runs.
    sys.modules["plugins.roomtest"] = tests.support.roomtest
    sys.modules["plugins.roomtest.plugin"] = tests.support.roomtest.plugin
    plugins.roomtest = tests.support.roomtest  # type: ignore[attr-defined]
    sys.exit(main(sys.argv[2:]))
