"""The region's municipalities on both sides of the border (data/municipalities.csv), to put
a distance on a match ("35 km"): `find_place` reads a town from a profile's town field or a
free text, `distance_km` is the great-circle distance. Unknown towns give None, never a guess.

The table: one row per municipality (Dutch gemeente; German Einheitsgemeinde or Samtgemeinde,
named after its seat) with the coordinates of its main town's centre; `aliases` are other
names and the villages that belong to it (member municipalities of a Samtgemeinde too), which
therefore get the municipality's coordinates (a few km off at most).

Matching is case- and accent-insensitive (ü = ue = u, ß = ss), ignores punctuation and a
trailing country ("Emmen (NL)", "Lingen, Deutschland"), which also picks the side when a name
exists on both. Names that are everyday words (COMMON_WORDS: "Leer", "Haren", "Vries", ...) are
found in a free text only after "in/uit/aus/bei/near/..." or as the whole field.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
COUNTRIES = ("NL", "DE")
MAX_WORDS = 5  # the longest name, in words, looked for in a free text
_COLUMNS = ("name", "country", "province_or_district", "lat", "lon", "aliases")
_WORD = re.compile(r"[^\W_]+")
_FOLD = str.maketrans({"ß": "ss", "ä": "a", "ö": "o", "ü": "u", "æ": "ae", "ø": "o"})
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
# A trailing word naming the country: "Emmen (NL)", "Meppen Duitsland".
_COUNTRY_WORDS = {
    **dict.fromkeys(("nl", "nld", "nederland", "niederlande", "netherlands", "holland", "the netherlands"), "NL"),
    **dict.fromkeys(("de", "d", "deu", "duitsland", "deutschland", "germany", "brd"), "DE"),
}
# Names (folded) that are everyday words in nl/de/en: in a free text only after a place word.
COMMON_WORDS = frozenset(
    (
        *("leer", "haren", "vries", "dalen", "gieten", "ruinen", "echten", "leek", "borne", "losser", "kampen"),
        *("twist", "bunde", "lindern", "wielen", "een", "loon", "elim", "erica", "erika", "gees", "tuk", "enter"),
        *("eext", "epe", "lehe", "lahn", "halen", "garen", "kampe", "ringe", "glane", "engter", "mussel"),
        *("wedde", "onnen", "lutten", "beesten", "bokel", "eltern", "helte", "versen", "darme", "gaste", "venne"),
        *("powe", "menslage", "rulle"),
        *("sustrum", "stavern", "blanke", "loga", "de punt", "de wijk", "gersten", "schapen", "vrees"),
        *("ihren", "goor", "beerze", "vasse", "buinen"),
    )
)
# Words after which a common-word name is taken as a place.
PLACE_CUES = frozenset(
    (
        *("in", "uit", "te", "bij", "nabij", "rond", "omgeving", "regio", "vanuit", "naar", "richting"),
        *("aus", "bei", "nahe", "um", "raum", "region", "nach", "von", "ort", "standort", "sitz"),
        *("from", "near", "around", "at", "area", "based", "to"),
    )
)


@dataclass(frozen=True)
class Place:
    name: str
    country: str  # NL or DE
    lat: float
    lon: float
    district: str = ""  # province (NL) or Landkreis / kreisfreie Stadt (DE)


class PlacesError(ValueError):
    """The municipalities table is malformed; the message names the line."""


def normalize(text: str) -> str:
    """Folded words joined by single spaces: 'Sögel', 'Soegel' and 'SOGEL' all give 'sogel'."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = _WORD.findall(text)
    for pair, single in _DIGRAPHS:
        words = [w.replace(pair, single) for w in words]
    return " ".join(words)


def _strip_country(words: list[str]) -> tuple[list[str], str | None]:
    for size in (2, 1):
        if len(words) > size and " ".join(words[-size:]) in _COUNTRY_WORDS:
            return words[:-size], _COUNTRY_WORDS[" ".join(words[-size:])]
    return words, None


def _country_at(words: list[str], i: int) -> str | None:
    """The country named by the word(s) at `i` ("(NL)", "the netherlands"), if any."""
    for size in (2, 1):
        found = _COUNTRY_WORDS.get(" ".join(words[i : i + size])) if i + size <= len(words) else None
        if found:
            return found
    return None


class Places:
    """The loaded table and its name index."""

    def __init__(self, places: list[Place], names: dict[str, list[tuple[int, Place]]]) -> None:
        self.places = places
        self._names = names  # normalized name -> (rank, place): 0 official name, 1 alias

    def _pick(self, key: str, country: str | None) -> Place | None:
        found = self._names.get(key, ())
        if country is not None:
            found = [f for f in found if f[1].country == country]
        return min(found, key=lambda f: f[0])[1] if found else None

    def find(self, text: str) -> Place | None:
        """The town a profile field or a free text names (the whole text first, then the first
        name in it, longest names first); None when none is known."""
        words, country = _strip_country(normalize(text).split())
        if not words:
            return None
        whole = self._pick(" ".join(words), country)
        if whole is not None:
            return whole
        for start in range(len(words)):
            for size in range(min(MAX_WORDS, len(words) - start), 0, -1):
                key = " ".join(words[start : start + size])
                if key not in self._names:
                    continue
                if key in COMMON_WORDS and (start == 0 or words[start - 1] not in PLACE_CUES):
                    continue
                place = self._pick(key, _country_at(words, start + size) or country)
                if place is not None:
                    return place
        return None


def parse(text: str, source: str = "municipalities.csv") -> Places:
    """Read and check the table; PlacesError names the line and the problem."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or tuple(h.strip() for h in header) != _COLUMNS:
        raise PlacesError(f"{source}: the header must be {','.join(_COLUMNS)}")
    places: list[Place] = []
    names: dict[str, list[tuple[int, Place]]] = {}
    for line, row in enumerate(rows, 2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(_COLUMNS):
            raise PlacesError(f"{source}:{line}: expected {len(_COLUMNS)} columns, got {len(row)}")
        name, country, district, lat_text, lon_text, aliases = (c.strip() for c in row)
        if not name or country not in COUNTRIES:
            raise PlacesError(f"{source}:{line}: needs a name and a country NL or DE")
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise PlacesError(f"{source}:{line}: lat/lon {lat_text!r}, {lon_text!r} are not numbers") from None
        if not (50.0 < lat < 54.0 and 5.0 < lon < 9.5):  # the region, with room to spare
            raise PlacesError(f"{source}:{line}: {name} at {lat}, {lon} is outside the region")
        place = Place(name, country, lat, lon, district)
        places.append(place)
        for rank, alias in [(0, name), *((1, a) for a in aliases.split("|") if a.strip())]:
            key = normalize(alias)
            if not key:
                raise PlacesError(f"{source}:{line}: empty name {alias!r}")
            entries = names.setdefault(key, [])
            if any(p is place for _, p in entries):  # "Haren (Gn)" and "Haren Gn": one name
                continue
            if any(p.country == country for _, p in entries):
                other = next(p.name for _, p in entries if p.country == country)
                raise PlacesError(f"{source}:{line}: {alias!r} is already a name of {other} ({country})")
            entries.append((rank, place))
    return Places(places, names)


@cache
def places() -> Places:
    """The shipped table, loaded once."""
    text = files("plugins.exchange").joinpath("data", "municipalities.csv").read_text(encoding="utf-8")
    return parse(text)


def find_place(text: str) -> Place | None:
    """The region's town that `text` names ("Emmen", "emmen (NL)", "Soegel", "wir sitzen in
    Lingen"), or None."""
    return places().find(text)


def distance_km(a: Place, b: Place) -> float:
    """Great-circle (haversine) distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
