"""What cross-signing costs at start: time from process start to a healthy
bot, with `matrix.cross_signing` off (baseline) and on, same account, same
Synapse, same run. Each start restores the same device (the usual restart);
"first" is the very first start of a new data dir (keys generated, uploaded).

    .venv/bin/python bench/identity_startup.py [--n 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.ports import free_port  # noqa: E402
from devtools.synapse import SynapseServer  # noqa: E402
from tests.support.bot_process import BotProcess  # noqa: E402


def timed_start(bot: BotProcess) -> float:
    t0 = time.perf_counter()
    bot.start()
    elapsed = time.perf_counter() - t0
    bot.stop()
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        synapse = SynapseServer(tmp / "synapse", port=free_port())
        synapse.start()
        try:
            account = synapse.register("benchbot", "pw-bench")
            rows = []
            for mode in (False, True):
                bot = BotProcess(
                    tmp / f"bot-{mode}",
                    synapse.url,
                    free_port(),
                    password="pw-bench",
                    allow_users=[],
                    user_id=account["user_id"],
                    extra={"matrix": {"cross_signing": mode}},
                )
                first = timed_start(bot)
                restarts = [timed_start(bot) for _ in range(args.n)]
                rows.append((mode, first, statistics.median(restarts), min(restarts), max(restarts)))
        finally:
            synapse.stop()
    base = rows[0][2]
    print(f"| cross_signing | first start ms | restart median ms | min | max | ratio vs off (n={args.n}) |")
    print("|---|---|---|---|---|---|")
    for mode, first, med, lo, hi in rows:
        print(f"| {'on' if mode else 'off'} | {first:.0f} | {med:.0f} | {lo:.0f} | {hi:.0f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
