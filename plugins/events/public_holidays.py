"""Public holidays on a date in the community's regions (python-holidays:
maintained, offline, knows the Netherlands and the German states), named in
the organiser's language.

The library names Dutch holidays in Dutch and English and German ones in
German and English; a name it has no translation for comes from this
plugin's catalog (`events.holiday.<english name as a key>`), else the
region's own language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diabot.i18n import Catalog

# The library's language codes for ours.
_LIBRARY_LANG = {"nl": "nl", "de": "de", "en": "en_US"}


@dataclass(frozen=True)
class Holiday:
    region: str  # NL, DE-NI
    name: str  # in the reader's language


def check_region(region: str) -> None:
    """ValueError unless the library knows the country (and subdivision)."""
    import holidays

    country, _, subdivision = region.partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdivision or None, years=2026)
    except (NotImplementedError, KeyError) as exc:
        raise ValueError(f"{region!r} is not a country (and subdivision) the holidays library knows") from exc


def holiday_key(english_name: str) -> str:
    return "events.holiday." + re.sub(r"[^a-z0-9]+", "_", english_name.lower()).strip("_")


@lru_cache(maxsize=64)
def _names(region: str, year: int, lang: str) -> dict[date, str]:
    """Blocking (~10 ms for a new region and year, cached after): call off the event loop."""
    import holidays

    country, _, subdivision = region.partition("-")
    cls = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    supported = getattr(cls, "supported_languages", ())
    if lang not in supported:
        lang = getattr(cls, "default_language", None) or "en_US"
    table = holidays.country_holidays(country, subdiv=subdivision or None, years=year, language=lang)
    return dict(table.items())


def holidays_on(day: date, regions: list[str], lang: str, catalog: Catalog) -> list[Holiday]:
    """Blocking the first time for a year: call from a worker thread."""
    found = []
    for region in regions:
        english = _names(region, day.year, "en_US").get(day)
        if english is None:
            continue
        key = holiday_key(english.split(";")[0].strip())
        if lang in ("nl", "de") and _LIBRARY_LANG[lang] not in _supported(region):
            name = catalog.t(lang, key) if catalog.has(key) else _names(region, day.year, "").get(day, english)
        else:
            name = _names(region, day.year, _LIBRARY_LANG[lang]).get(day, english)
        found.append(Holiday(region, name))
    return found


@lru_cache(maxsize=16)
def _supported(region: str) -> tuple[str, ...]:
    import holidays

    country = region.partition("-")[0]
    return tuple(getattr(holidays.country_holidays(country, years=2026), "supported_languages", ()))
