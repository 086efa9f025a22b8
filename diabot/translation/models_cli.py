"""`diabot models list | install | remove | status`.

install takes language pairs like `nl-en` (from the Argos package index,
online, with a progress bar) and/or paths to .argosmodel files or
directories of them (offline), several at once. A running bot picks up what
was installed within MODELS_CHECK_S seconds, without a restart.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from . import LANGUAGES
from .engine import MODELS_CHECK_S, PIVOT, ArgosEngine, EngineSettings, Pair, argos, missing_pairs

PAIRS = [(a, b) for a in LANGUAGES for b in LANGUAGES if a != b]
# What members read and write: Dutch and German both ways, English into both.
MEMBER_DIRECTIONS: list[Pair] = [("nl", "de"), ("de", "nl"), ("en", "nl"), ("en", "de")]


def install_command(config_file: Path | None, pairs: Iterable[Pair]) -> str:
    """The command an operator runs to install `pairs` for this bot."""
    config = shlex.quote(str(config_file)) if config_file is not None else "config/diabot.yaml"
    return f"diabot -c {config} models install " + " ".join(f"{a}-{b}" for a, b in pairs)


def _engine(settings) -> ArgosEngine:
    tr = settings.translation
    return ArgosEngine(
        EngineSettings(tr.packages_dir, tr.compute_type, tr.inter_threads, tr.intra_threads, tr.beam_size)
    )


def _pair(text: str) -> Pair | None:
    parts = text.replace("_", "-").replace(">", "-").split("-")
    if len(parts) == 2 and all(p in LANGUAGES for p in parts):
        return parts[0], parts[1]
    return None


def _arrow(pair: Pair) -> str:
    return f"{pair[0]}→{pair[1]}"


def _download(url: str, target: Path) -> None:
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=60) as resp:
        total = int(resp.headers.get("Content-Length") or 0)
        with open(target, "wb") as out, tqdm(total=total or None, unit="B", unit_scale=True, desc=target.name) as bar:
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def _install_from_index(engine: ArgosEngine, pairs: list[Pair], config_file: Path | None) -> list[Pair] | None:
    """Download and install `pairs` from the Argos index; None if it failed (said why)."""
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
            "On a machine without internet, copy the .argosmodel files here and run:\n"
            f"  {install_command(config_file, [])}/path/to/folder-with-argosmodel-files",
            file=sys.stderr,
        )
        return None
    installed: list[Pair] = []
    for pair in pairs:
        match = [p for p in available if (p.get("from_code"), p.get("to_code")) == pair and p.get("links")]
        if not match:
            via = "" if PIVOT in pair else f" ({_arrow(pair)} works through English: install {pair[0]}-en en-{pair[1]})"
            print(f"the index has no package {_arrow(pair)}{via}", file=sys.stderr)
            return None
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / f"translate-{pair[0]}_{pair[1]}.argosmodel"
            _download(match[0]["links"][0], target)
            installed += engine.install_file(target)
    return installed


def status_lines(engine: ArgosEngine) -> list[str]:
    lines = []
    for src, tgt in PAIRS:
        route = engine.route(src, tgt)
        how = "missing" if route is None else ("direct" if len(route) == 1 else "via " + route[0][1])
        lines.append(f"{src}->{tgt}: {how}")
    return lines


def _install(engine: ArgosEngine, targets: list[str], config_file: Path | None) -> int:
    paths = [Path(t) for t in targets if Path(t).exists()]
    pairs: list[Pair] = []
    for target in targets:
        if Path(target).exists():
            continue
        pair = _pair(target)
        if pair is None:
            print(f"{target}: neither a file nor a language pair like nl-en", file=sys.stderr)
            return 2
        pairs.append(pair)
    installed: list[Pair] = []
    for path in paths:
        try:
            installed += engine.install_file(path)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    if pairs:
        from_index = _install_from_index(engine, pairs, config_file)
        if from_index is None:
            return 1
        installed += from_index
    print(_installed_report(engine, installed, config_file))
    return 0


def _installed_report(engine: ArgosEngine, installed: list[Pair], config_file: Path | None) -> str:
    """What happened, and what the members' directions still lack."""
    done = ", ".join(_arrow(p) for p in dict.fromkeys(installed)) or "nothing new (already installed)"
    lines = [
        f"installed {done} (in {engine.settings.packages_dir})",
        f"a running bot picks them up within {MODELS_CHECK_S} s, without a restart",
    ]
    for direction in MEMBER_DIRECTIONS:
        route = engine.route(*direction)
        if route is not None:
            lines.append(f"  {_arrow(direction)}: " + ("direct" if len(route) == 1 else f"via {PIVOT}"))
        else:
            _, needed = missing_pairs(engine.installed(), [direction])
            lines.append(f"  {_arrow(direction)}: missing, install with: {install_command(config_file, needed)}")
    return "\n".join(lines)


def main(settings, args: list[str]) -> int:
    engine = _engine(settings)
    config_file: Path | None = settings.config_file
    cmd = args[0] if args else "status"
    if cmd == "list":
        installed = engine.installed()
        print("\n".join(f"{a}->{b}" for a, b in installed) if installed else "no packages installed")
        print(f"(in {engine.settings.packages_dir})")
        return 0
    if cmd == "status":
        print("\n".join(status_lines(engine)))
        return 0
    if cmd == "install" and len(args) >= 2:
        return _install(engine, args[1:], config_file)
    if cmd == "remove" and len(args) == 2 and (pair := _pair(args[1])):
        removed = engine.remove(*pair)
        print(f"removed; a running bot stops using it within {MODELS_CHECK_S} s" if removed else "not installed")
        return 0 if removed else 1
    print(
        "usage: diabot models list | status | install <nl-en|FILE|DIR>... | remove <nl-en>",
        file=sys.stderr,
    )
    return 2
