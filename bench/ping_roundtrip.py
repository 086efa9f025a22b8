"""Round trip of `!ping` through diabot vs a bare matrix-nio echo bot, both
against the same throwaway Synapse in the same run. Prints a table, and where
the time goes inside each bot (diabot runs as bench/profiled_bot.py: diabot
with timing hooks and a SQL statement counter installed from outside).

    .venv/bin/python bench/ping_roundtrip.py [--n 200] [--no-proposals]

A third bot, "diabot + P1-P3", is diabot with the changes proposed for
dispatch/outbox/storage tried from outside (see install_proposals in
bench/profiled_bot.py), so their gain is measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


WARMUP = 10


class ProfiledBot(BotProcess):
    """BotProcess, but `python bench/profiled_bot.py` instead of `python -m diabot`."""

    def __init__(self, *args, trace: Path, env: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.trace = trace
        self.env = env

    def start(self, timeout: float = 60) -> ProfiledBot:
        log = open(self.log_path, "ab")  # the bot process owns it until it exits
        env = dict(os.environ, PYTHONUNBUFFERED="1", DIABOT_BENCH_TRACE=str(self.trace), **self.env)
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "profiled_bot.py"), "-c", str(self.config_path), "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.health()[0] == 200:
                return self
            time.sleep(0.2)
        raise TimeoutError(f"bot not healthy in {timeout}s:\n{self.log_tail()}")


def read_trace(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records[WARMUP:]


def span(records: list[dict], start: str, end: str) -> list[float]:
    return [(r[end] - r[start]) / 1e6 for r in records if start in r and end in r]


def med(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "–"


def sql_cell(records: list[dict], stage: str | None) -> str:
    """'statements / commits / ms in SQL' of one stage, medians."""
    rows = [r.get("sql", {}).get(stage) for r in records] if stage else []
    rows = [row for row in rows if row]
    if not rows:
        return ""
    statements = statistics.median(row["statements"] for row in rows)
    commits = statistics.median(row["commits"] for row in rows)
    return f"{statements:g} / {commits:g} / {statistics.median(row['sql_ns'] for row in rows) / 1e6:.2f}"


STAGES = [
    ("sync response: read body + parse (nio)", "http", "parsed", None),
    # The bare bot answers from inside nio's processing (its callback), so it has no such stage.
    ("sync response: nio processing (rooms, e2ee)", "parsed", "nio_done", None),
    ("diabot sync loop up to dispatch (batch, convert)", "nio_done", "dispatch_start", None),
    ("dispatch: one event's transaction", "dispatch_start", "dispatch_end", "dispatch"),
    ("outbox hand-off (notify -> worker wakes)", "dispatch_end", "outbox_start", None),
    ("outbox: still queued? (SELECT)", "outbox_start", "still_queued_end", "outbox: still queued?"),
    ("outbox: to transport.send", "still_queued_end", "send_start", None),
    ("**sync response -> room_send starts**", "http", "send_start", None),
    ("room_send (HTTP to Synapse)", "send_start", "send_end", None),
    ("after the send: outbox marks the row sent", "send_end", "mark_end", "outbox: mark sent"),
    ("sync loop: saves the sync token (concurrent)", "token_save_start", "token_save_end", "sync token save"),
]


def print_breakdown(traces: dict[str, list[dict]]) -> None:
    """Median per stage (ms) of each bot, from the marks their processes wrote."""
    names = list(traces)
    diabots = [n for n in names if n != "bare"]
    counts = ", ".join(f"{len(traces[n])} {n}" for n in names)
    print(f"\nWhere the time goes inside each bot, median per stage (ms; {counts} pings)\n")
    sql_heads = " | ".join(f"SQL {n}: statements / commits / ms" for n in diabots)
    print(f"| stage | {' | '.join(names)} | {sql_heads} |")
    print("|---|" + "---:|" * len(names) + "---:|" * len(diabots))
    for label, start, end, stage in STAGES:
        times = " | ".join(med(span(traces[n], start, end)) for n in names)
        sqls = " | ".join(sql_cell(traces[n], stage) for n in diabots)
        print(f"| {label} | {times} | {sqls} |")
    for name in diabots:
        records = traces[name]
        labels = dict.fromkeys(
            label for r in records for row in r.get("sql", {}).values() for label in row.get("parts", {})
        )
        if labels:
            print(f"\nInside the stages of {name} (median ms per ping; nested parts overlap):\n")
            print("| stage | part | ms |")
            print("|---|---|---:|")
            for stage in dict.fromkeys(st for r in records for st in r.get("sql", {})):
                for label in labels:
                    values = [
                        r["sql"][stage]["parts"][label] / 1e6
                        for r in records
                        if label in r.get("sql", {}).get(stage, {}).get("parts", {})
                    ]
                    if values:
                        print(f"| {stage} | {label} | {statistics.median(values):.2f} |")
        if records:
            convert = [r.get("convert_ns", 0) / 1e6 for r in records]
            print(f"\nconvert() alone ({name}): median {statistics.median(convert) * 1000:.0f} µs per batch")
            for stage, row in records[-1].get("sql", {}).items():
                print(f"\nSQL of '{stage}' ({name}, last ping):")
                for text in row["text"]:
                    print(f"    {text}")


async def one_ping(user: MatrixUser, room: str, bot_id: str) -> float:
    t0 = time.perf_counter()
    event_id = await user.send(room, "!ping")
    await user.reply_to(event_id, bot_id, room, timeout=30)
    return (time.perf_counter() - t0) * 1000


PROPOSALS = "diabot + P1-P3"


async def measure(args) -> None:
    names = ["bare", "diabot"] + ([PROPOSALS] if args.proposals else [])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synapse = SynapseServer(tmp / "synapse", port=free_port())
        synapse.start()
        bare = None
        bots: dict[str, ProfiledBot] = {}
        tester = None
        try:
            tester_creds = synapse.register("tester", "pw-tester")
            bare_creds = synapse.register("barebot", "pw-bare")
            for creds in (tester_creds, bare_creds):
                synapse.override_ratelimit(creds["user_id"])
            for i, name in enumerate(names[1:]):
                creds = synapse.register(f"diabot{i}", "pw-diabot")
                bots[name] = ProfiledBot(
                    tmp / f"diabot{i}",
                    synapse.url,
                    free_port(),
                    password="pw-diabot",
                    user_id=creds["user_id"],
                    allow_users=[tester_creds["user_id"]],
                    # The default 20 commands/minute would cut the run short.
                    extra={
                        "logging": {"level": "WARNING", "format": "json"},
                        "bot": {"default_language": "en", "rate_limits": {"commands": "100000/minute"}},
                    },
                    trace=tmp / f"{name}.trace",
                    env={"DIABOT_BENCH_PROPOSALS": "1"} if name == PROPOSALS else {},
                )
                bots[name].start()
                synapse.override_ratelimit(creds["user_id"])
            bare = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "bare_echo_bot.py"), synapse.url, json.dumps(bare_creds)],
                stdout=subprocess.PIPE,
                stderr=open(tmp / "bare.log", "wb"),
                env=dict(os.environ, DIABOT_BENCH_TRACE=str(tmp / "bare.trace")),
            )
            assert bare.stdout.readline().strip() == b"ready"
            tester = await MatrixUser(synapse.url, tester_creds, tmp / "tester").start()
            rooms = {}
            bot_ids = {"bare": bare_creds["user_id"], **{name: bot.user_id for name, bot in bots.items()}}
            for name in names:
                rooms[name] = (await tester.create_room(invite=[bot_ids[name]], name=name), bot_ids[name])
                await wait_membership(tester, rooms[name][0], bot_ids[name])
            for room, bot_id in rooms.values():  # warm-up
                for _ in range(WARMUP):
                    await one_ping(tester, room, bot_id)
            samples: dict[str, list[float]] = {name: [] for name in names}
            for i in range(args.n):
                # Rotate which goes first so drift hits all equally.
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    samples[name].append(await one_ping(tester, *rooms[name]))
        finally:
            if tester:
                await tester.close()
            if bare:
                bare.terminate()
                bare.wait(10)
            for bot in bots.values():
                bot.stop()
            synapse.stop()
            traces = {name: read_trace(tmp / f"{name}.trace") for name in names}

    b = samples["bare"]
    print(f"\n!ping round trip, {args.n} commands each, interleaved, same Synapse (ms)\n")
    print("| bot | n | p50 | p95 | mean |")
    print("|---|---:|---:|---:|---:|")
    for name, values in samples.items():
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} | "
            f"{statistics.fmean(values):.1f} |"
        )
    for name in names[1:]:
        d = samples[name]
        print(
            f"| **ratio {name}/bare** | | **{statistics.median(d) / statistics.median(b):.3f}** | "
            f"{pct(d, 0.95) / pct(b, 0.95):.3f} | {statistics.fmean(d) / statistics.fmean(b):.3f} |"
        )
    print_breakdown(traces)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument(
        "--no-proposals",
        dest="proposals",
        action="store_false",
        help="leave out the third bot (diabot with the proposed changes, bench/profiled_bot.py)",
    )
    asyncio.run(measure(parser.parse_args()))
