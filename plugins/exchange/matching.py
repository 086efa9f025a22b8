"""Matching a seek and an offer without a translation model: both texts are reduced to shared
taxonomy concepts (language-independent), then scored.

score = concepts (each shared specific concept 3, one shared only through a broader concept 1,
        general ones — themes, resource types, "customer", "partner" — 0.25)
      + same theme 1 + same resource type 1
      + shared stemmed keywords 0.5 each (at most 2)
      + distance: ≤ 25 km 1, ≤ 60 km 0.5 (unknown: nothing)
      + the border: a seek and an offer from different sides 0.5 (what the network is for).

A pair is a match only with at least one shared specific concept or two shared keywords, and a
score of at least MIN_SCORE: two requests that share only "customer" or a theme do not match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .places import Place, distance_km
from .taxonomy import taxonomy

MIN_SCORE = 3.0
TOP = 3
# Concepts every second request mentions: they say little about a fit.
GENERAL = frozenset(
    ("customer", "partner", "cooperation", "cross_border", "sales", "purchasing", "cluster", "sustainability")
)
W_SPECIFIC, W_BROADER, W_GENERAL = 3.0, 1.0, 0.25
W_THEME, W_RESOURCE, W_KEYWORD, MAX_KEYWORDS = 1.0, 1.0, 0.5, 4
W_NEAR, NEAR_KM, W_REGION, REGION_KM = 1.0, 25.0, 0.5, 60.0
W_BORDER = 0.5


@dataclass(frozen=True)
class Features:
    """What matching looks at of one request."""

    kind: str  # seek | offer
    concepts: frozenset[str]
    theme: str | None
    resource: str | None
    keywords: frozenset[str]
    place: Place | None
    side: str | None


@dataclass(frozen=True)
class Score:
    score: float
    shared: tuple[str, ...]  # concept ids worth naming (specific first), for the explanation
    km: float | None
    matches: bool


def general(concept_id: str) -> bool:
    return concept_id in GENERAL or taxonomy().kind(concept_id) in ("theme", "resource")


def score(a: Features, b: Features) -> Score:
    tax = taxonomy()
    wide_a, wide_b = tax.expand(a.concepts), tax.expand(b.concepts)
    total = 0.0
    specific: list[str] = []
    named: list[str] = []
    for cid in sorted(wide_a & wide_b):
        if general(cid):
            total += W_GENERAL
        elif cid in a.concepts and cid in b.concepts:
            total += W_SPECIFIC
            specific.append(cid)
        else:
            total += W_BROADER
        named.append(cid)
    if a.theme and a.theme == b.theme:
        total += W_THEME
    if a.resource and a.resource == b.resource:
        total += W_RESOURCE
    words = a.keywords & b.keywords
    total += W_KEYWORD * min(len(words), MAX_KEYWORDS)
    km = distance_km(a.place, b.place) if a.place is not None and b.place is not None else None
    if km is not None:
        total += W_NEAR if km <= NEAR_KM else W_REGION if km <= REGION_KM else 0.0
    if a.side and b.side and a.side != b.side and {a.kind, b.kind} == {"seek", "offer"}:
        total += W_BORDER
    enough = bool(specific) or len(words) >= 2
    shown = tuple(specific) if specific else tuple(c for c in named if not general(c))
    return Score(round(total, 2), shown, km, enough and total >= MIN_SCORE)


def best(new: Features, candidates: Iterable[tuple[int, Features]], top: int = TOP) -> list[tuple[int, Score]]:
    """The `top` candidates that match `new`, best first (ties: the older request first)."""
    scored = [(cid, score(new, f)) for cid, f in candidates]
    fitting = [(cid, s) for cid, s in scored if s.matches]
    fitting.sort(key=lambda pair: (-pair[1].score, pair[0]))
    return fitting[:top]


def explain(shared: Iterable[str], km: float | None, lang: str, both: str, number: str | None) -> str:
    """'beide: lassen, RVS; 35 km' — `both` is the reader's word for "both", `number` the km as
    the reader writes numbers."""
    parts = []
    labels = taxonomy().explain(set(shared), lang)
    if labels:
        parts.append(f"{both}: {labels}")
    if km is not None and number is not None:
        parts.append(f"{number} km")
    return "; ".join(parts)
