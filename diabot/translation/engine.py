"""argostranslate packages on disk -> CTranslate2 inference (blocking; the
async Translator calls this from its worker thread).

Packages are read with argostranslate's own Package class. They are
installed the way argostranslate's install_from_path does it (unzip into the
packages dir), but unzipped next to it first and moved in with one rename:
a running bot that looks at the dir (`reload_if_changed`, every
MODELS_CHECK_S) never sees half a package. Inference is what argostranslate's
apply_packaged_translation does — SentencePiece encode, translate_batch,
decode — minus its sentence splitter (which downloads a model on first use)
and with many messages in one batch.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
PIVOT = "en"
# How often a running bot looks for packages installed or removed meanwhile (seconds).
MODELS_CHECK_S = 5
# Folders in the packages dir that are no package (yet): our unzipping, editors' and rsync's leftovers.
_HIDDEN = "."
Pair = tuple[str, str]
# What the packages dir looked like: per package folder, the times and sizes that change when it does.
DiskState = tuple[tuple[str, tuple[int, ...]], ...]


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, tokens: list[str]) -> str: ...


class Package(Protocol):
    """What the engine reads of an argostranslate Package (the library ships no types)."""

    package_path: Path
    from_code: str
    to_code: str
    tokenizer: Tokenizer
    target_prefix: str  # "" or absent in most packages


class NoModel(Exception):
    """No installed package (direct or via English) for a direction."""


def argos(packages_dir: Path):
    """argostranslate reads its settings from the environment at import;
    point it at our packages dir before and after importing."""
    packages_dir.mkdir(parents=True, exist_ok=True)
    os.environ["ARGOS_PACKAGES_DIR"] = str(packages_dir)
    os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")
    import argostranslate.package
    import argostranslate.settings

    argostranslate.settings.package_data_dir = packages_dir
    argostranslate.settings.package_dirs = [packages_dir]
    return argostranslate.package


@dataclass(frozen=True)
class EngineSettings:
    packages_dir: Path
    compute_type: str = "int8"
    inter_threads: int = 1
    intra_threads: int = 2
    beam_size: int = 1
    # Bound on output length relative to input (a real model stops by itself
    # long before; random-weights benchmark models never do).
    max_length_ratio: float = 3.0


def missing_pairs(installed: Iterable[Pair], directions: Iterable[Pair]) -> tuple[list[Pair], list[Pair]]:
    """(the directions without a route, the packages to install for them):
    a direction needs its direct package or both halves through English;
    what is proposed is the English route, the one the Argos index has."""
    have = set(installed)
    unroutable: list[Pair] = []
    needed: list[Pair] = []
    for src, tgt in directions:
        if (src, tgt) in have or ((src, PIVOT) in have and (PIVOT, tgt) in have):
            continue
        unroutable.append((src, tgt))
        hops = [(src, tgt)] if PIVOT in (src, tgt) else [(src, PIVOT), (PIVOT, tgt)]
        needed += [hop for hop in hops if hop not in have and hop not in needed]
    return unroutable, needed


def _disk_state(packages_dir: Path) -> DiskState:
    """Cheap: a few stat calls per package. A new, removed or replaced
    package changes its folder's entry; a package still being copied by
    hand changes its folder's, its model folder's or model.bin's times."""
    try:
        entries = sorted(os.scandir(packages_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return ()
    state = []
    for entry in entries:
        if entry.name.startswith(_HIDDEN) or not entry.is_dir():
            continue
        stats: list[int] = [entry.stat().st_mtime_ns]
        for inner in ("model", "model/model.bin", "metadata.json"):
            try:
                stat = os.stat(os.path.join(entry.path, inner))
            except OSError:
                stats += (-1, -1)
            else:
                stats += (stat.st_mtime_ns, stat.st_size)
        state.append((entry.name, tuple(stats)))
    return tuple(state)


class ArgosEngine:
    # Subclasses without a packages dir (a test's fake engine) watch nothing.
    _state: DiskState | None = None

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self._packages: dict[tuple[str, str], Package] = {}
        self._translators: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()
        self.reload()

    # ---- packages -------------------------------------------------------------

    def reload_if_changed(self) -> bool:
        """Reload if the packages dir changed since the last (re)load (blocking: call it in a thread)."""
        if self._state is None or _disk_state(self.settings.packages_dir) == self._state:
            return False
        self.reload()
        return True

    def reload(self) -> None:
        package = argos(self.settings.packages_dir)
        # Before reading: a change while reading is seen by the next look.
        state = _disk_state(self.settings.packages_dir)
        found: dict[tuple[str, str], Package] = {}
        # One package at a time (argostranslate's get_installed_packages fails
        # for all when one lacks metadata.json): a broken one is skipped.
        folders = (p for p in self.settings.packages_dir.iterdir() if p.is_dir() and not p.name.startswith(_HIDDEN))
        for path in sorted(folders):
            problem: str | None
            try:
                pkg = package.Package(path)
            except (OSError, ValueError, AttributeError, TypeError) as exc:  # missing, unreadable or not an object
                problem = f"no valid metadata.json ({exc.__class__.__name__})"
            else:
                problem = (
                    "no from_code/to_code in metadata.json"
                    if not (pkg.from_code and pkg.to_code)
                    else "no model folder"
                    if not (path / "model").is_dir()
                    else "no tokenizer model"
                    if getattr(pkg, "tokenizer", None) is None
                    else None
                )
            if problem:
                log.warning("skipping a broken translation package", extra={"path": str(path), "problem": problem})
                continue
            found[(pkg.from_code, pkg.to_code)] = pkg
        with self._lock:
            # A loaded model stays loaded only if its package is the same one.
            same = {k for k, pkg in found.items() if k in self._packages and self._same(self._packages[k], pkg, state)}
            self._packages = found
            self._translators = {k: v for k, v in self._translators.items() if k in same}
            self._state = state

    def _same(self, old: Package, new: Package, state: DiskState) -> bool:
        if old.package_path != new.package_path:
            return False
        name = new.package_path.name
        return dict(self._state or ()).get(name) == dict(state).get(name)

    def installed(self) -> list[tuple[str, str]]:
        return sorted(self._packages)

    def route(self, src: str, tgt: str) -> list[tuple[str, str]] | None:
        """Direct if installed, else through English, else None."""
        if (src, tgt) in self._packages:
            return [(src, tgt)]
        if (src, PIVOT) in self._packages and (PIVOT, tgt) in self._packages:
            return [(src, PIVOT), (PIVOT, tgt)]
        return None

    def install_file(self, path: Path) -> list[tuple[str, str]]:
        """Install one .argosmodel file, or every one in a directory; the
        pairs it installed."""
        files = sorted(path.glob("*.argosmodel")) if path.is_dir() else [path]
        if not files:
            raise ValueError(f"no .argosmodel file in {path}")
        for file in files:
            if not zipfile.is_zipfile(file):
                raise ValueError(f"{file} is not an .argosmodel (zip) file")
        before = dict(_disk_state(self.settings.packages_dir))
        for file in files:
            self._unzip_into_place(file)
        self.reload()
        after = dict(self._state or ())
        changed = {name for name in after if after[name] != before.get(name)}
        return sorted(pair for pair, pkg in self._packages.items() if pkg.package_path.name in changed)

    def _unzip_into_place(self, file: Path) -> None:
        """Unzip into a hidden folder of the packages dir, then move each
        top folder in with one rename (replacing an older copy)."""
        packages_dir = self.settings.packages_dir
        packages_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=packages_dir))
        try:
            with zipfile.ZipFile(file) as archive:
                archive.extractall(staging)  # strips absolute paths and ".." (zipfile does)
            for top in sorted(p for p in staging.iterdir() if p.is_dir()):
                target = packages_dir / top.name
                if target.exists():
                    old = Path(tempfile.mkdtemp(prefix=".replaced-", dir=packages_dir))
                    target.rename(old / top.name)
                top.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            for leftover in packages_dir.glob(".replaced-*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def remove(self, src: str, tgt: str) -> bool:
        pkg = self._packages.get((src, tgt))
        if pkg is None:
            return False
        argos(self.settings.packages_dir).uninstall(pkg)
        self.reload()
        return True

    # ---- inference ----------------------------------------------------------------

    def _translator(self, hop: tuple[str, str], pkg: Package):
        with self._lock:
            translator = self._translators.get(hop)
            if translator is None:
                import ctranslate2

                translator = ctranslate2.Translator(
                    str(pkg.package_path / "model"),
                    device="cpu",
                    compute_type=self.settings.compute_type,
                    inter_threads=self.settings.inter_threads,
                    intra_threads=self.settings.intra_threads,
                )
                self._translators[hop] = translator
        return translator

    def translate_sentences(self, hop: tuple[str, str], sentences: list[str]) -> list[str]:
        """One CTranslate2 batch for all sentences of one hop."""
        pkg = self._packages.get(hop)
        if pkg is None:
            raise NoModel(f"{hop[0]}->{hop[1]}")
        translator = self._translator(hop, pkg)
        tokens = [pkg.tokenizer.encode(s) for s in sentences]
        prefix = [[pkg.target_prefix]] * len(tokens) if getattr(pkg, "target_prefix", "") else None
        longest = max((len(t) for t in tokens), default=1)
        results = translator.translate_batch(
            tokens,
            target_prefix=prefix,
            replace_unknowns=True,
            beam_size=self.settings.beam_size,
            max_batch_size=64,
            length_penalty=0.2,
            # Bound the output: a chat sentence never needs 3x its length.
            max_decoding_length=min(512, int(self.settings.max_length_ratio * longest) + 10),
        )
        out = []
        for result in results:
            value = pkg.tokenizer.decode(result.hypotheses[0])
            if prefix and value.startswith(pkg.target_prefix):
                value = value[len(pkg.target_prefix) :]
            out.append(value.strip())
        return out
