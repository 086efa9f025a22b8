"""Round trip of `!ping` through diabot vs a bare matrix-nio echo bot, both
against the same throwaway Synapse in the same run. Prints a table.

    .venv/bin/python bench/ping_roundtrip.py [--n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.ports import free_port  # noqa: E402
from devtools.synapse import SynapseServer  # noqa: E402
from tests.integration.helpers import wait_membership  # noqa: E402
from tests.support.bot_process import BotProcess  # noqa: E402
from tests.support.matrix_user import MatrixUser  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_ping(user: MatrixUser, room: str, bot_id: str) -> float:
    t0 = time.perf_counter()
    event_id = await user.send(room, "!ping")
    await user.reply_to(event_id, bot_id, room, timeout=30)
    return (time.perf_counter() - t0) * 1000


async def measure(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synapse = SynapseServer(tmp / "synapse", port=free_port())
        synapse.start()
        bare = diabot = None
        tester = None
        try:
            tester_creds = synapse.register("tester", "pw-tester")
            bare_creds = synapse.register("barebot", "pw-bare")
            synapse.register("diabot", "pw-diabot")
            for creds in (tester_creds, bare_creds):
                synapse.override_ratelimit(creds["user_id"])
            diabot = BotProcess(
                tmp / "diabot",
                synapse.url,
                free_port(),
                password="pw-diabot",
                allow_users=[tester_creds["user_id"]],
                extra={"logging": {"level": "WARNING", "format": "json"}},
            )
            diabot.start()
            synapse.override_ratelimit(diabot.user_id)
            bare = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "bare_echo_bot.py"), synapse.url, json.dumps(bare_creds)],
                stdout=subprocess.PIPE,
                stderr=open(tmp / "bare.log", "wb"),
            )
            assert bare.stdout.readline().strip() == b"ready"
            tester = await MatrixUser(synapse.url, tester_creds, tmp / "tester").start()
            rooms = {}
            for name, bot_id in (("bare", bare_creds["user_id"]), ("diabot", diabot.user_id)):
                rooms[name] = (await tester.create_room(invite=[bot_id], name=name), bot_id)
                await wait_membership(tester, rooms[name][0], bot_id)
            for room, bot_id in rooms.values():  # warm-up
                for _ in range(10):
                    await one_ping(tester, room, bot_id)
            samples: dict[str, list[float]] = {"bare": [], "diabot": []}
            for i in range(args.n):
                # Alternate which goes first so drift hits both equally.
                order = ("bare", "diabot") if i % 2 == 0 else ("diabot", "bare")
                for name in order:
                    samples[name].append(await one_ping(tester, *rooms[name]))
        finally:
            if tester:
                await tester.close()
            if bare:
                bare.terminate()
                bare.wait(10)
            if diabot:
                diabot.stop()
            synapse.stop()

    b, d = samples["bare"], samples["diabot"]
    rows = [("bare nio echo bot", b), ("diabot", d)]
    print(f"\n!ping round trip, {args.n} commands each, interleaved, same Synapse (ms)\n")
    print("| bot | n | p50 | p95 | mean |")
    print("|---|---:|---:|---:|---:|")
    for name, values in rows:
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} | "
            f"{statistics.fmean(values):.1f} |"
        )
    print(
        f"| **ratio diabot/bare** | | **{statistics.median(d) / statistics.median(b):.3f}** | "
        f"{pct(d, 0.95) / pct(b, 0.95):.3f} | {statistics.fmean(d) / statistics.fmean(b):.3f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    asyncio.run(measure(parser.parse_args()))
