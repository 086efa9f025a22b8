"""Which translation models a room needs and how an operator installs them.

In auto mode a Dutch message gets a German translation and a German one a
Dutch one; English goes into the configured languages. The public Argos
index has no nl<->de package: both directions go through English, so
nl->de needs nl-en and en-de, de->nl needs de-en and en-nl.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from diabot.formatting import Markdown, code_span
from diabot.translation import Translator, missing_pairs
from diabot.translation.models_cli import install_command

Pair = tuple[str, str]
# In auto mode: a message in X gets translations into OTHER[X].
OTHER = {"nl": ["de"], "de": ["nl"]}


def auto_directions(english_targets: Iterable[str]) -> list[Pair]:
    return [(src, tgt) for src, tgts in OTHER.items() for tgt in tgts] + [("en", t) for t in english_targets]


@dataclass(frozen=True)
class Missing:
    directions: list[Pair]  # no route installed
    pairs: list[Pair]  # the packages that would give them one
    any_installed: bool

    def directions_text(self) -> str:
        return ", ".join(f"{a.upper()}→{b.upper()}" for a, b in self.directions)

    def command(self, config_file: Path | None) -> Markdown:
        """`diabot -c <config> models install nl-en ...` as inline code."""
        return code_span(install_command(config_file, self.pairs))


def missing(translator: Translator | None, directions: list[Pair]) -> Missing:
    installed = translator.engine.installed() if translator is not None else []
    unroutable, pairs = missing_pairs(installed, directions)
    return Missing(unroutable, pairs, bool(installed))
