"""Message catalogs for nl, de and en, and locale-aware formatting.

Catalogs are flat YAML maps `key: text` with str.format placeholders, one
file per language in diabot/locales/ and in each plugin's locales/ folder.
There is no process-wide language: every lookup names its language.

A text may instead be a mapping of CLDR plural categories to texts
(`{one: "1 lid", other: "{count} leden"}`); `t(..., count=n)` picks the form
by the language's plural rule (Babel). `{p}` is always the configured command
prefix, so a catalog never hard-codes `!`.

German addresses the reader with "Sie" (what members of a business
association expect from a bot). A folder may hold `de.du.yaml`: the same keys
in the "du" form, used instead when the community chooses `german_address:
du`. Only texts that address the reader are in it; the rest is shared.

Catalog texts are markdown; placeholder values are plain text and are
escaped (diabot.formatting.escape_md) unless they are `Markdown` the bot
built itself. So a company name or a quoted argument can never turn into a
link or a heading in the bot's message. Values are inserted once: a value
that itself contains `{p}` stays as it is.
"""

from __future__ import annotations

import datetime as dt
import logging
import string
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from .formatting import Markdown, escape_md

LANGUAGES = ("nl", "de", "en")
# The regional variant a reader of each language expects (24-hour clock, day before month).
LOCALES = {"nl": "nl_NL", "de": "de_DE", "en": "en_GB"}
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
# CLDR's "atTime" date-time patterns; Babel only exposes the plain "{1}, {0}" ones.
_AT_TIME = {"nl": "{date} om {time}", "de": "{date} um {time}", "en": "{date} at {time}"}

Text = str | dict[str, str]  # a plain text, or plural forms by CLDR category
Width = Literal["full", "long", "medium", "short"]
GermanAddress = Literal["sie", "du"]
log = logging.getLogger(__name__)


def placeholders(text: Text) -> set[str]:
    """The placeholder names of a text (of all its plural forms together)."""
    forms = text.values() if isinstance(text, Mapping) else [text]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def _safe(value: object) -> object:
    # Numbers stay numbers (format specs like {n:d}); everything else is text.
    if isinstance(value, (int, float, Markdown)):
        return value
    return escape_md(value)


class _KeepMissing(dict[str, object]):
    """Leaves a placeholder the caller did not give as `{name}`: degrade, don't crash."""

    key = ""

    def __missing__(self, name: str) -> str:
        log.warning("missing i18n param", extra={"key": self.key, "param": name})
        return "{" + name + "}"


def _load_text(key: str, raw: object, path: Traversable) -> Text:
    if isinstance(raw, Mapping):
        return {str(category): str(form) for category, form in raw.items()}
    if raw is None or isinstance(raw, (list, bool)):
        raise ValueError(f"i18n key {key!r} in {path} is not a text")
    return str(raw)


class Catalog:
    def __init__(
        self,
        texts: Mapping[str, Mapping[str, Text]] | None = None,
        *,
        prefix: str = "!",
        timezone: str | dt.tzinfo | None = None,
        german_address: GermanAddress = "sie",
    ):
        self.texts: dict[str, dict[str, Text]] = {lang: dict((texts or {}).get(lang, {})) for lang in LANGUAGES}
        # The "du" forms of German texts; always loaded, so the catalog test checks them whatever the config says.
        self.german_du: dict[str, Text] = {}
        self.german_address = german_address
        self.prefix = prefix
        # The community's zone; None formats a datetime in its own zone.
        self.timezone: dt.tzinfo | None = ZoneInfo(timezone) if isinstance(timezone, str) else timezone

    @classmethod
    def from_dirs(
        cls,
        dirs: Iterable[Traversable],
        *,
        prefix: str = "!",
        timezone: str | dt.tzinfo | None = None,
        german_address: GermanAddress = "sie",
    ) -> Catalog:
        """`dirs`: folders (Path or importlib.resources Traversable) holding <lang>.yaml files."""
        catalog = cls(prefix=prefix, timezone=timezone, german_address=german_address)
        for folder in dirs:
            catalog.load_dir(folder)
        return catalog

    def load_dir(self, folder: Traversable) -> None:
        for lang in LANGUAGES:
            path = folder / f"{lang}.yaml"
            if not path.is_file():
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for key, raw in data.items():
                if key in self.texts[lang]:
                    raise ValueError(f"duplicate i18n key {key!r} in {path}")
                self.texts[lang][key] = _load_text(key, raw, path)
        path = folder / "de.du.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for key, raw in data.items():
                if key not in self.texts["de"]:
                    raise ValueError(f'{path}: {key!r} has no "Sie" form in de.yaml beside it')
                if key in self.german_du:
                    raise ValueError(f"duplicate i18n key {key!r} in {path}")
                self.german_du[key] = _load_text(key, raw, path)

    def _text(self, lang: str, key: str) -> Text | None:
        if lang == "de" and self.german_address == "du" and key in self.german_du:
            return self.german_du[key]
        return self.texts.get(lang, {}).get(key)

    def has(self, key: str) -> bool:
        return key in self.texts["en"]

    def t(self, lang: str, key: str, /, **params: object) -> Markdown:
        """The text in markdown, with `params` escaped unless they are
        `Markdown` (opt-out for markup the bot made, e.g. a code span).
        `p` (the command prefix) is always given; `count` picks a plural form."""
        text = self._text(lang, key)
        if text is None:
            # The catalog test keeps this from happening; degrade, don't crash.
            log.warning("missing i18n key", extra={"key": key, "lang": lang})
            text = self.texts["en"].get(key, key)
        if isinstance(text, Mapping):
            text = self._plural_form(lang, key, text, params.get("count"))
        prefix = escape_md(self.prefix)
        values = _KeepMissing(p=prefix)
        values.key = key
        values.update({name: _safe(value) for name, value in params.items()})
        try:
            return Markdown(text.format_map(values))
        except (IndexError, ValueError):
            log.warning("bad i18n params", extra={"key": key, "lang": lang})
            return Markdown(text.replace("{p}", prefix))

    def _plural_form(self, lang: str, key: str, forms: Mapping[str, str], count: object) -> str:
        if isinstance(count, (int, float)) and not isinstance(count, bool):
            category = Locale.parse(self._locale(lang)).plural_form(abs(count))
            if category in forms:
                return forms[category]
        else:
            log.warning("plural text without a count", extra={"key": key, "lang": lang})
        return forms.get("other") or next(iter(forms.values()), key)

    # Locale-aware values, for texts like "{when}" — pass the result as a param.

    def date(self, lang: str, when: dt.date, *, tz: dt.tzinfo | None = None, width: Width = "full") -> str:
        """`full`: "dinsdag 1 december 2026" / "Dienstag, 1. Dezember 2026" / "Tuesday, 1 December 2026"."""
        if isinstance(when, dt.datetime):
            when = self._local(when, tz).date()
        return format_date(when, width, locale=self._locale(lang))

    def time(self, lang: str, when: dt.datetime | dt.time, *, tz: dt.tzinfo | None = None) -> str:
        """Hours and minutes on a 24-hour clock: "16:00"."""
        if isinstance(when, dt.datetime):
            when = self._local(when, tz).time()
        return format_time(when, "short", locale=self._locale(lang))

    def datetime(self, lang: str, when: dt.datetime, *, tz: dt.tzinfo | None = None, width: Width = "full") -> str:
        """Weekday, date and time: "dinsdag 1 december 2026 om 16:00" / "Dienstag, 1. Dezember 2026 um 16:00"."""
        local = self._local(when, tz)
        pattern = _AT_TIME.get(lang, _AT_TIME["en"])
        return pattern.format(date=self.date(lang, local.date(), width=width), time=self.time(lang, local.time()))

    def number(self, lang: str, n: float, *, digits: int | None = None) -> str:
        """1234.5 -> "1.234,5" (nl, de) / "1,234.5" (en); `digits` fixes the decimals."""
        pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(n, format=pattern, locale=self._locale(lang))

    def _locale(self, lang: str) -> str:
        return LOCALES.get(lang, LOCALES["en"])

    def _local(self, when: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
        if when.tzinfo is None or when.utcoffset() is None:
            # Which zone a naive time is in is a guess: a wrong meeting time is worse than an error.
            raise ValueError("catalog dates need an aware datetime")
        zone = tz or self.timezone
        return when.astimezone(zone) if zone is not None else when

    def problems(self) -> list[str]:
        """Keys missing in a language, placeholders that differ, malformed plural forms.
        `p` is left out of the comparison: it is always given."""
        out = []
        all_keys = set().union(*(set(t) for t in self.texts.values()))
        for key in sorted(all_keys):
            present = {lang: self.texts[lang].get(key) for lang in LANGUAGES}
            missing = [lang for lang, text in present.items() if text is None]
            if missing:
                out.append(f"{key}: missing in {', '.join(missing)}")
                continue
            for lang, text in present.items():
                if isinstance(text, Mapping):
                    if "other" not in text:
                        out.append(f"{key}: plural forms in {lang} lack 'other'")
                    if unknown := sorted(set(text) - PLURAL_CATEGORIES):
                        out.append(f"{key}: unknown plural categories in {lang}: {', '.join(unknown)}")
            shapes = {lang: placeholders(text) - {"p"} for lang, text in present.items() if text is not None}
            if key in self.german_du:
                shapes["de (du)"] = placeholders(self.german_du[key]) - {"p"}
            if len({frozenset(s) for s in shapes.values()}) > 1:
                out.append(f"{key}: placeholders differ {shapes}")
        return out
