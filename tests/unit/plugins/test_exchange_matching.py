"""Scores and explanations without a translation model: shared concepts across languages count,
general ones barely do, theme, resource type, keywords, distance and the border add a little."""

from __future__ import annotations

from plugins.exchange.introductions import features
from plugins.exchange.matching import Features, best, explain, score
from plugins.exchange.models import ExchangeItem
from plugins.exchange.places import find_place
from plugins.exchange.text import concepts_of, keywords, search_text, side_of_user, split_tags


def request(kind: str, text: str, lang: str, **extra: object) -> Features:
    concepts = frozenset(concepts_of(text, lang))
    return Features(
        kind=kind,
        concepts=concepts,
        theme=extra.get("theme"),  # type: ignore[arg-type]
        resource=extra.get("resource"),  # type: ignore[arg-type]
        keywords=frozenset(keywords(text)),
        place=find_place(str(extra["town"])) if "town" in extra else None,
        side=extra.get("side"),  # type: ignore[arg-type]
    )


def test_a_german_seek_and_a_dutch_offer_share_concepts_and_the_explanation_names_them():
    seek = request("seek", "Schweißer für Edelstahl gesucht", "de")
    offer = request("offer", "Wij bieden lassen van RVS", "nl")
    scored = score(seek, offer)
    assert scored.matches
    assert set(scored.shared) == {"welding", "stainless_steel"}
    assert explain(scored.shared, scored.km, "nl", "beide", None) == "beide: lassen, RVS"
    assert explain(scored.shared, 35.0, "de", "beide", "35") == "beide: Edelstahl, Schweißen; 35 km"


def test_unrelated_requests_and_general_concepts_alone_do_not_match():
    seek = request("seek", "Schweißer für Edelstahl", "de")
    assert not score(seek, request("offer", "boekhouding en salarisadministratie", "nl")).matches
    # Both mention customers and a partner, nothing specific: no match.
    general = score(
        request("seek", "Wir suchen Kunden und Partner", "de"), request("offer", "klanten en partners", "nl")
    )
    assert not general.matches


def test_theme_resource_distance_and_the_border_add_to_the_score():
    base_seek = request("seek", "Schweißer für Edelstahl", "de")
    base_offer = request("offer", "lassen van RVS", "nl")
    plain = score(base_seek, base_offer).score
    richer = score(
        request("seek", "Schweißer für Edelstahl", "de", theme="trade", resource="people", town="Meppen", side="de"),
        request("offer", "lassen van RVS", "nl", theme="trade", resource="people", town="Emmen", side="nl"),
    )
    assert richer.score == plain + 1 + 1 + 0.5 + 0.5  # theme, resource, region (≈ 35 km), border
    assert richer.km is not None and 25 < richer.km < 60
    same_side = score(
        request("seek", "Schweißer für Edelstahl", "de", side="de"),
        request("offer", "lassen van RVS", "nl", side="de"),
    )
    assert same_side.score == plain  # the border bonus is for seeks and offers across it


def test_the_best_three_first():
    seek = request("seek", "Schweißer für Edelstahl", "de", theme="trade")
    weak = request("offer", "metaalbewerking en lassen", "nl")
    strong = request("offer", "lassen van RVS", "nl", theme="trade")
    unrelated = request("offer", "boekhouding", "nl")
    ranked = best(seek, [(1, weak), (2, strong), (3, unrelated), (4, strong), (5, strong)])
    assert [i for i, _ in ranked] == [2, 4, 5]


def test_text_helpers():
    assert split_tags("Schweißer gesucht #metaal #trade") == ("Schweißer gesucht", ["metaal", "trade"])
    assert side_of_user("@anna:firma.de") == "de" and side_of_user("@bernd:bedrijf.nl") == "nl"
    assert side_of_user("@carla:localhost") is None
    tokens = search_text("Wij zoeken een lasser", {"welding"}).split()
    assert "zzcwelding" in tokens and "zzcmetalworking" in tokens and "lasser" in tokens


def test_features_of_a_stored_item_use_its_town():
    item = ExchangeItem(kind="offer", text="lassen", concepts=["welding"], town="Emmen", side="nl")
    assert features(item).place is not None
