"""`diabot models list | install | remove | status`.

install takes `nl-en` (from the Argos package index, online, with a progress
bar) or a path to an .argosmodel file or a directory of them (offline).
"""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

from . import LANGUAGES
from .engine import ArgosEngine, EngineSettings, argos

PAIRS = [(a, b) for a in LANGUAGES for b in LANGUAGES if a != b]


def _engine(settings) -> ArgosEngine:
    tr = settings.translation
    return ArgosEngine(
        EngineSettings(tr.packages_dir, tr.compute_type, tr.inter_threads, tr.intra_threads, tr.beam_size)
    )


def _pair(text: str) -> tuple[str, str] | None:
    parts = text.replace("_", "-").replace(">", "-").split("-")
    if len(parts) == 2 and all(p in LANGUAGES for p in parts):
        return parts[0], parts[1]
    return None


def _download(url: str, target: Path) -> None:
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=60) as resp:
        total = int(resp.headers.get("Content-Length") or 0)
        with open(target, "wb") as out, tqdm(total=total or None, unit="B", unit_scale=True, desc=target.name) as bar:
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def _install_from_index(engine: ArgosEngine, pair: tuple[str, str]) -> int:
    import json

    argos(engine.settings.packages_dir)
    from argostranslate import settings as argos_settings

    try:
        # One attempt with a timeout: argostranslate's own update retries
        # forever when the machine is offline.
        with urllib.request.urlopen(argos_settings.remote_package_index, timeout=15) as resp:
            available = json.loads(resp.read())
    except Exception as exc:  # offline: say so plainly
        print(
            f"cannot reach the Argos package index ({exc.__class__.__name__}: {exc}).\n"
            "On a machine without internet, copy an .argosmodel file here and run:\n"
            "  diabot models install /path/to/translate-nl_en.argosmodel",
            file=sys.stderr,
        )
        return 1
    match = [p for p in available if (p.get("from_code"), p.get("to_code")) == pair and p.get("links")]
    if not match:
        print(
            f"the index has no package {pair[0]}->{pair[1]} (nl<->de works through English: install nl-en and en-de)",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"translate-{pair[0]}_{pair[1]}.argosmodel"
        _download(match[0]["links"][0], target)
        engine.install_file(target)
    print(f"installed {pair[0]}->{pair[1]}")
    return 0


def status_lines(engine: ArgosEngine) -> list[str]:
    lines = []
    for src, tgt in PAIRS:
        route = engine.route(src, tgt)
        how = "missing" if route is None else ("direct" if len(route) == 1 else "via " + route[0][1])
        lines.append(f"{src}->{tgt}: {how}")
    return lines


def main(settings, args: list[str]) -> int:
    engine = _engine(settings)
    cmd = args[0] if args else "status"
    if cmd == "list":
        installed = engine.installed()
        print("\n".join(f"{a}->{b}" for a, b in installed) if installed else "no packages installed")
        print(f"(in {engine.settings.packages_dir})")
        return 0
    if cmd == "status":
        print("\n".join(status_lines(engine)))
        return 0
    if cmd == "install" and len(args) == 2:
        path = Path(args[1])
        if path.exists():
            try:
                installed = engine.install_file(path)
            except ValueError as exc:
                print(str(exc), file=sys.stderr)
                return 1
            print("installed; now available: " + ", ".join(f"{a}->{b}" for a, b in installed))
            return 0
        pair = _pair(args[1])
        if pair is None:
            print(f"{args[1]}: neither a file nor a language pair like nl-en", file=sys.stderr)
            return 2
        return _install_from_index(engine, pair)
    if cmd == "remove" and len(args) == 2 and (pair := _pair(args[1])):
        removed = engine.remove(*pair)
        print("removed" if removed else "not installed")
        return 0 if removed else 1
    print("usage: diabot models list | status | install <nl-en|FILE|DIR> | remove <nl-en>", file=sys.stderr)
    return 2
