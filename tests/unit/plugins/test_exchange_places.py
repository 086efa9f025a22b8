"""The region's municipalities: towns as members type them (profile field or free text),
distances that match the map, unknown towns that give None, and the table's checks."""

from __future__ import annotations

import pytest

from plugins.exchange.places import Place, PlacesError, distance_km, find_place, parse, places

# (what a member types, expected municipality and country; None: unknown or not a place)
TOWNS = [
    ("Emmen", ("Emmen", "NL")),
    ("emmen (NL)", ("Emmen", "NL")),
    ("EMMEN", ("Emmen", "NL")),
    ("Klazienaveen", ("Emmen", "NL")),
    ("Nieuw-Amsterdam", ("Emmen", "NL")),
    ("Nieuw Amsterdam", ("Emmen", "NL")),
    ("Meppen", ("Meppen", "DE")),
    ("Meppen (DE)", ("Meppen", "DE")),
    ("Lingen", ("Lingen (Ems)", "DE")),
    ("Lingen (Ems)", ("Lingen (Ems)", "DE")),
    ("Sögel", ("Sögel", "DE")),
    ("Soegel", ("Sögel", "DE")),
    ("Sogel", ("Sögel", "DE")),
    ("Barssel", ("Barßel", "DE")),
    ("Osnabrueck", ("Osnabrück", "DE")),
    ("Münster", ("Münster", "DE")),
    ("GM-Hütte", ("Georgsmarienhütte", "DE")),
    ("Ter Apel", ("Westerwolde", "NL")),
    ("Nordhorn, Deutschland", ("Nordhorn", "DE")),
    ("Haren", ("Haren (Ems)", "DE")),
    ("Haren (Gn)", ("Groningen", "NL")),
    ("Spahnharrenstätte", ("Sögel", "DE")),  # a member of Samtgemeinde Sögel
    ("Wir sind ein Betrieb aus Papenburg und suchen", ("Papenburg", "DE")),
    ("Metaalbedrijf in Coevorden zoekt lassers", ("Coevorden", "NL")),
    ("Wir kommen aus Leer", ("Leer (Ostfriesland)", "DE")),
    ("Leer", ("Leer (Ostfriesland)", "DE")),
    ("Das Glas ist leer", None),  # "leer" is a word first
    ("wij kampen met personeelstekort", None),
    ("Wij zoeken een lasser", None),  # "Een" (Noordenveld) is a word first
    ("Paris", None),
    ("Amsterdam", None),
    ("", None),
    ("   ", None),
]


@pytest.mark.parametrize(("text", "expected"), TOWNS, ids=[repr(t[0]) for t in TOWNS])
def test_find_place(text: str, expected: tuple[str, str] | None) -> None:
    found = find_place(text)
    assert (found and (found.name, found.country)) == expected


def _km(a: str, b: str) -> float:
    pa, pb = find_place(a), find_place(b)
    assert pa is not None and pb is not None
    return distance_km(pa, pb)


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        # straight-line distances between the town centres (by road they are longer)
        ("Emmen", "Meppen", 26, 32),
        ("Emmen", "Lingen", 38, 44),
        ("Meppen", "Lingen", 17, 21),
        ("Assen", "Groningen", 23, 27),
        ("Emmen", "Coevorden", 15, 20),
        ("Papenburg", "Leer", 15, 20),
        ("Zwolle", "Enschede", 58, 68),
        ("Osnabrück", "Münster", 40, 50),
        ("Groningen", "Oldenburg", 100, 120),
    ],
)
def test_distances(a: str, b: str, low: float, high: float) -> None:
    assert low <= _km(a, b) <= high


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    emmen, meppen = find_place("Emmen"), find_place("Meppen")
    assert emmen is not None and meppen is not None
    assert distance_km(emmen, emmen) == 0
    assert distance_km(emmen, meppen) == pytest.approx(distance_km(meppen, emmen))


def test_the_table_covers_both_sides() -> None:
    table = places().places
    nl = [p for p in table if p.country == "NL"]
    de = [p for p in table if p.country == "DE"]
    assert len(nl) >= 47 and len(de) >= 70
    districts = {p.district for p in table}
    for needed in (
        "Drenthe",
        "Groningen",
        "Overijssel",
        "Landkreis Emsland",
        "Landkreis Grafschaft Bentheim",
        "Landkreis Cloppenburg",
        "Landkreis Leer",
        "Landkreis Osnabrück",
    ):
        assert needed in districts
    for city in ("Osnabrück", "Oldenburg", "Groningen", "Zwolle", "Enschede", "Münster"):
        assert find_place(city) is not None
    # The Dutch side is west of the German side everywhere in this region.
    assert max(p.lon for p in nl) < 7.25 < max(p.lon for p in de)
    assert all(isinstance(p, Place) for p in table)


HEADER = "name,country,province_or_district,lat,lon,aliases\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "needs"),
        ("Emmen,NL,Drenthe,52.786\n", "columns"),
        ("Emmen,BE,Drenthe,52.786,6.898,\n", "country NL or DE"),
        ("Emmen,NL,Drenthe,north,6.898,\n", "not numbers"),
        ("Emmen,NL,Drenthe,48.1,11.5,\n", "outside the region"),
        ("Emmen,NL,Drenthe,52.786,6.898,\nAssen,NL,Drenthe,52.993,6.563,Emmen\n", "already a name of Emmen"),
    ],
)
def test_table_errors(body: str, message: str) -> None:
    text = HEADER + body if body else "town,lat\n"
    with pytest.raises(PlacesError, match=message if body else "header"):
        parse(text)


def test_the_same_name_on_both_sides_picks_by_country() -> None:
    table = parse(HEADER + "Bergen,NL,X,52.66,6.70,\nBergen,DE,Y,52.70,7.30,\n")
    first = table.find("Bergen")
    assert first is not None and first.country == "NL"  # the first listed, without a hint
    de = table.find("Bergen (DE)")
    assert de is not None and de.country == "DE"
    nl = table.find("wir fahren nach Bergen NL")
    assert nl is not None and nl.country == "NL"
