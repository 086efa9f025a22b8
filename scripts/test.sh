#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (bot venv,
# Synapse in its own venv, PostgreSQL from Debian) and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Gates first, before the slow set-up (CI runs this script): lint, formatting and types, configured in pyproject.toml.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy                                   # diabot/ and plugins/ ([tool.mypy] files)
.venv/bin/python -m devtools.synapse ensure      # Synapse venv, apart from the bot's
.venv/bin/python -m devtools.postgres ensure     # Debian's postgresql package
npm ci --prefix tests/support/jsclient --no-audit --no-fund --silent  # js-sdk client for the Element (strict E2EE) tests
# A temp root of this checkout's own: pytest prunes old numbered temp dirs,
# which must not hit another checkout's run on the same machine.
base="${TMPDIR:-/tmp}/diabot-pytest-$(pwd | md5sum | cut -c1-8)"
# Two workers (pytest-xdist), each with its own Synapse and PostgreSQL: most integration time is
# waiting on the homeserver, so two run side by side on the 2 cores (19 -> 14 min wall on this machine).
exec .venv/bin/python -m pytest -p no:cacheprovider -q -ra -n 2 --durations=15 --basetemp="$base" "$@"
