"""argostranslate packages on disk -> CTranslate2 inference (blocking; the
async Translator calls this from its worker thread).

Packages are installed and read with argostranslate's own functions
(install_from_path, Package). Inference is what argostranslate's
apply_packaged_translation does — SentencePiece encode, translate_batch,
decode — minus its sentence splitter (which downloads a model on first use)
and with many messages in one batch.
"""

from __future__ import annotations

import logging
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
PIVOT = "en"


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


class ArgosEngine:
    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self._packages: dict[tuple[str, str], Package] = {}
        self._translators: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()
        self.reload()

    # ---- packages -------------------------------------------------------------

    def reload(self) -> None:
        package = argos(self.settings.packages_dir)
        found: dict[tuple[str, str], Package] = {}
        # One package at a time (argostranslate's get_installed_packages fails
        # for all when one lacks metadata.json): a broken one is skipped.
        for path in sorted(p for p in self.settings.packages_dir.iterdir() if p.is_dir()):
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
            self._packages = found
            self._translators = {k: v for k, v in self._translators.items() if k in found}

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
        """Install one .argosmodel file, or every one in a directory."""
        files = sorted(path.glob("*.argosmodel")) if path.is_dir() else [path]
        if not files:
            raise ValueError(f"no .argosmodel file in {path}")
        package = argos(self.settings.packages_dir)
        for file in files:
            if not zipfile.is_zipfile(file):
                raise ValueError(f"{file} is not an .argosmodel (zip) file")
            package.install_from_path(file)
        self.reload()
        return self.installed()

    def remove(self, src: str, tgt: str) -> bool:
        pkg = self._packages.get((src, tgt))
        if pkg is None:
            return False
        argos(self.settings.packages_dir).uninstall(pkg)
        self.reload()
        return True

    # ---- inference ----------------------------------------------------------------

    def _translator(self, hop: tuple[str, str]):
        with self._lock:
            translator = self._translators.get(hop)
            if translator is None:
                import ctranslate2

                pkg = self._packages[hop]
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
        translator = self._translator(hop)
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
