#!/usr/bin/env bash
# Local demo: a throwaway Synapse on 127.0.0.1:8008, the community space with
# its themed rooms, demo users and the bot. Ctrl-C stops everything; the
# demo-data/ directory survives for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/python -m devtools.synapse ensure
exec .venv/bin/python -m devtools.demo "$@"
