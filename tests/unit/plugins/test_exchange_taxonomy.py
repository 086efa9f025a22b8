"""The exchange taxonomy: free texts as members write them in nl/de/en and the shared concepts
they must (and must not) mention, the cross-border property (a Dutch and a German phrasing of
one need share concepts), the homograph rule, and the loader's validation messages."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from diabot.resources import default_themes_file
from plugins.exchange import taxonomy as t
from plugins.exchange.taxonomy import TaxonomyError, concepts_in, explain, label, parse, taxonomy

# (text, language, concepts that must be found, concepts that must NOT be found)
TEXTS = [
    # metal
    ("Wij zoeken een lasser voor RVS", "nl", {"welding", "stainless_steel"}, set()),
    ("Wir suchen einen Schweißer für Edelstahl", "de", {"welding", "stainless_steel"}, set()),
    ("We are looking for a welder for stainless steel", "en", {"welding", "stainless_steel"}, set()),
    ("Schweisser gesucht (Schweisstechnik, WIG)", "de", {"welding"}, set()),
    ("Ervaren lassers en laswerk in onze werkplaats", "nl", {"welding"}, set()),
    ("Wij kunnen CNC-frezen en draaiwerk uitbesteden", "nl", {"cnc", "turning", "subcontractor"}, set()),
    (
        "Lohnfertigung: Zerspanung, Drehteile und Blechbearbeitung",
        "de",
        {"contract_manufacturing", "machining", "turning", "sheet_metal"},
        set(),
    ),
    ("Laserschneiden und Pulverbeschichtung aus einer Hand", "de", {"laser_cutting", "coating"}, set()),
    ("Edelstahlverarbeitung und Schweißtechnik", "de", {"stainless_steel", "welding"}, set()),  # compounds
    # logistics and trade
    ("Spedition sucht Lkw-Fahrer mit Führerschein CE", "de", {"freight_forwarding", "truck_driver"}, set()),
    ("Vrachtwagenchauffeurs gezocht voor koeltransport", "nl", {"truck_driver", "cold_chain"}, set()),
    ("Opslagruimte voor 300 pallets beschikbaar in ons magazijn", "nl", {"warehousing", "pallets"}, set()),
    ("Freie Lagerfläche und Palettenstellplätze in Meppen", "de", {"warehousing", "pallets"}, set()),
    ("Gezamenlijke inkoop van energie en export naar Duitsland", "nl", {"purchasing", "export", "theme_energy"}, set()),
    ("Zollabfertigung für den Export in die Niederlande", "de", {"customs", "export"}, set()),
    # agriculture and food
    (
        "Loonwerker zoekt trekkers en mestverwerking",
        "nl",
        {"agricultural_contractor", "agricultural_machinery", "manure"},
        set(),
    ),
    ("Wir verarbeiten Stärkekartoffeln für die Lebensmittelindustrie", "de", {"potatoes", "food_industry"}, set()),
    ("Dairy farm looking for a milking robot", "en", {"dairy_farming"}, set()),
    # care
    ("Verpleegkundigen gezocht in de ouderenzorg", "nl", {"nursing", "elderly_care"}, set()),
    (
        "Pflegekräfte für unser Pflegeheim und den ambulanten Pflegedienst",
        "de",
        {"nursing", "elderly_care", "home_care"},
        set(),
    ),
    # energy
    ("Zonnepanelen en een warmtepomp voor ons bedrijfspand", "nl", {"solar", "heat_pump", "production_hall"}, set()),
    ("Photovoltaik-Anlage und Luftwärmepumpe gesucht", "de", {"solar", "heat_pump"}, set()),
    (
        "Netcongestie: wij zoeken een partner voor batterijopslag",
        "nl",
        {"grid_congestion", "partner", "energy_storage"},
        set(),
    ),
    (
        "Grüner Wasserstoff aus dem Elektrolyseur für unsere Lkw-Flotte",
        "de",
        {"hydrogen", "electrolysis", "trucks"},
        set(),
    ),
    ("Offshore wind and hydrogen electrolysers", "en", {"wind_energy", "hydrogen", "electrolysis"}, set()),
    ("Ladesäulen für den Fuhrpark", "de", {"ev_charging", "fleet_management"}, set()),
    # construction and installation
    (
        "Dakdekker en installateur voor renovatie van een bedrijfshal",
        "nl",
        {"roofing", "installation_engineering", "renovation", "production_hall"},
        set(),
    ),
    (
        "Bauunternehmen sucht Subunternehmer für Erdarbeiten",
        "de",
        {"construction", "subcontractor", "earthmoving"},
        set(),
    ),
    # IT
    (
        "Softwareontwikkelaar voor ons ERP-systeem en de webshop",
        "nl",
        {"software_development", "erp", "e_commerce"},
        set(),
    ),
    ("Wir suchen Unterstützung bei IT-Sicherheit und KI", "de", {"cybersecurity", "artificial_intelligence"}, set()),
    ("We need IT support", "en", {"it_support"}, set()),
    ("it is urgent and we need it now", "en", set(), {"it"}),  # "it" is not IT
    # training and people
    (
        "Wij bieden stageplekken en BBL-leerlingen in de metaalbewerking",
        "nl",
        {"internship", "apprenticeship", "metalworking"},
        set(),
    ),
    (
        "Praktikumsplätze und Ausbildungsplätze für Azubis im Metallbau",
        "de",
        {"internship", "apprenticeship", "metalworking"},
        set(),
    ),
    ("Fachkräftemangel: wir bieten Umschulung für Quereinsteiger", "de", {"labour_shortage", "retraining"}, set()),
    ("Personeelstekort? Wij detacheren monteurs", "nl", {"labour_shortage", "temporary_staffing", "technician"}, set()),
    (
        "Apprentices and internships for students of the Hochschule",
        "en",
        {"apprenticeship", "internship", "students"},
        set(),
    ),
    # glossary
    ("Wie weet meer over subsidie voor een aanbesteding?", "nl", {"subsidy", "tender"}, set()),
    (
        "Fördermittel und Ausschreibungen, ISO 9001 Zertifizierung",
        "de",
        {"subsidy", "tender", "iso_9001", "certification"},
        set(),
    ),
    ("Bedrijfsopvolging: investeerder gezocht", "nl", {"business_succession", "investor"}, set()),
    ("Vacature: allround monteur, solliciteer nu", "nl", {"vacancy", "technician", "job_application"}, set()),
    ("Stand auf der Fachmesse in Hannover zu teilen", "de", {"trade_fair"}, set()),
    ("Interreg project met de Eems Dollard Regio", "nl", {"eu_funding"}, set()),
    # false-positive guards: everyday words that look like taxonomy words
    ("Wir lassen uns gern beraten", "de", set(), {"welding"}),
    ("Wir fahren am Montag nach Groningen, es gibt einen Grund", "de", set(), {"truck_driver", "assembly", "startup"}),
    (
        "Het project is geslaagd, we geven het team meer tijd en menen het",
        "nl",
        set(),
        {"meat_processing", "data", "government"},
    ),
    ("De machine draait goed, het gebeurt over twee weken", "nl", set(), {"turning", "trade_fair", "government"}),
    ("Ons kantoor is lager dan het magazijn", "nl", {"office_space", "warehousing"}, set()),
    ("Kontakt gerne per E-Mail", "de", set(), {"networks"}),
    ("Please turn the page and refer to the markets", "en", set(), {"turning", "marketing"}),
]


@pytest.mark.parametrize(("text", "lang", "expected", "absent"), TEXTS, ids=[row[0][:40] for row in TEXTS])
def test_concepts_in_texts(text: str, lang: str, expected: set[str], absent: set[str]) -> None:
    found = concepts_in(text, lang)
    assert expected <= found, f"missing {expected - found} in {sorted(found)}"
    assert not (absent & found), f"false positives {absent & found}"


def test_table_is_large_enough() -> None:
    assert len(TEXTS) >= 40
    assert {row[1] for row in TEXTS} == {"nl", "de", "en"}


# A Dutch and a German (or English) phrasing of the same need share concepts.
PAIRS = [
    ("Wij zoeken een lasser voor RVS", "Wir suchen einen Schweißer für Edelstahl", {"welding", "stainless_steel"}),
    ("Wij bieden stageplaatsen voor mbo-studenten", "Wir suchen Praktikanten von der Berufsschule", {"internship"}),
    (
        "Leerlingen gezocht voor de opleiding tot elektromonteur",
        "Azubis für die Ausbildung gesucht",
        {"apprenticeship"},
    ),
    ("Zonnepark met opslag in batterijen", "Solarpark mit Batteriespeicher", {"solar", "energy_storage"}),
    ("Warmtepompen installeren", "Installation von Wärmepumpen", {"heat_pump"}),
    (
        "Vrije capaciteit op onze lasersnijmachine",
        "Freie Kapazitäten auf der Laserschneidanlage",
        {"production_capacity", "laser_cutting"},
    ),
    (
        "Transportbedrijf zoekt chauffeurs",
        "Transportunternehmen sucht Berufskraftfahrer",
        {"transport", "truck_driver"},
    ),
    ("Wie helpt met subsidie voor waterstof?", "Wer hilft bei Fördermitteln für Wasserstoff?", {"subsidy", "hydrogen"}),
    (
        "Vergaderruimte te huur in Emmen",
        "Besprechungsraum zu vermieten in Meppen",
        {"meeting_room", "equipment_rental"},
    ),
    (
        "Wij bieden laswerk in roestvast staal",
        "We offer welding and stainless steel work",
        {"welding", "stainless_steel"},
    ),
]


@pytest.mark.parametrize(("nl", "other", "shared"), PAIRS, ids=[p[0][:30] for p in PAIRS])
def test_both_sides_share_concepts(nl: str, other: str, shared: set[str]) -> None:
    both = concepts_in(nl, "nl") & concepts_in(other, None)
    assert shared <= both, f"shared only {sorted(both)}"


def test_unrelated_requests_share_nothing() -> None:
    assert not concepts_in("Wij zoeken een lasser voor RVS", "nl") & concepts_in(
        "Wir suchen eine Pflegekraft für die Altenpflege", "de"
    )


def test_homographs_need_the_language() -> None:
    # nl "lassen" is welding; de "lassen" is "to let": with the language given, each is read right.
    assert "welding" in concepts_in("Wij lassen RVS", "nl")
    assert "welding" not in concepts_in("Wir lassen RVS liefern", "de")
    # Without a language the known homographs are not trusted, but unambiguous words still count.
    assert "welding" not in concepts_in("Wir lassen es so", None)
    assert "welding" in concepts_in("Wij zoeken lassers", None)
    # Dutch "van" (of) is no English van, Dutch "lager" (lower) no German Lager.
    assert not concepts_in("Een offerte van de leverancier is lager", None) & {"trucks", "warehousing"}
    assert "trucks" in concepts_in("We need two vans", "en")


def test_case_and_spelling_variants() -> None:
    for text in ("SCHWEISSER", "schweißer", "Schweisser", "Schweißerin"):
        assert "welding" in concepts_in(text, "de"), text
    for text in ("Fachkräfte", "Fachkraefte", "fachkrafte"):
        assert "theme_skills" in concepts_in(text, "de"), text
    assert "cooperation" in concepts_in("coöperatie", "nl") & concepts_in("cooperatie", "nl")


def test_phrase_wins_over_its_words() -> None:
    assert concepts_in("a trade fair in Hannover", "en") >= {"trade_fair"}
    assert "theme_trade" not in concepts_in("a trade fair in Hannover", "en")
    assert "heat_pump" in concepts_in("an air source heat pump", "en")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        concepts_in("Bonjour", "fr")


def test_labels_and_explanation() -> None:
    assert label("welding", "nl") == "lassen"
    assert label("welding", "de") == "Schweißen"
    assert label("stainless_steel", "nl") == "RVS"
    shared = concepts_in("Wij zoeken een lasser voor RVS", "nl") & concepts_in(
        "Wir suchen einen Schweißer für Edelstahl", "de"
    )
    assert explain(shared, "nl") == "lassen, RVS"
    assert explain(shared, "de") == "Edelstahl, Schweißen"
    # A broader concept is not named when a narrower one is.
    assert explain({"welding", "metalworking", "manufacturing"}, "en") == "welding"
    assert explain({"welding", "subsidy", "finance", "theme_energy"}, "en", limit=2) == "welding, subsidy"


def test_expand_themes_and_resources() -> None:
    tx = taxonomy()
    assert {"welding", "metalworking", "manufacturing"} <= t.expand({"welding"})
    assert tx.themes_of({"welding"}) == {"trade"}
    assert tx.themes_of({"heat_pump"}) == {"energy"}
    assert tx.resources_of({"subsidy"}) == {"finance"}
    assert tx.resources_of({"apprenticeship"}) == {"training"}


def test_shipped_taxonomy_content() -> None:
    tx = taxonomy()
    kinds = Counter(c.kind for c in tx.concepts.values())
    assert len(tx.concepts) >= 300
    assert kinds["resource"] == 10
    resources = {c.id for c in tx.concepts.values() if c.kind == "resource"}
    from diabot.resource_types import RESOURCES

    assert resources == set(RESOURCES)
    themes = {theme["slug"] for theme in yaml.safe_load(default_themes_file().read_text())["themes"]}
    assert tx.theme_slugs == themes
    for c in tx.concepts.values():
        assert all(c.words[lang] for lang in t.LANGS), c.id


def test_matching_is_cheap_enough_to_run_per_request() -> None:
    text = (
        "Wir sind ein mittelständischer Metallbaubetrieb aus Meppen und suchen für ein Projekt im "
        "Bereich Wasserstoff einen Partner mit Erfahrung in der Zerspanung von Edelstahl. Außerdem "
        "bieten wir Praktikumsplätze und freie Kapazitäten auf unserer Laserschneidanlage."
    )
    # No timing assertion: the result is the same with a warm cache.
    assert concepts_in(text, "de") == concepts_in(text, "de")


# ---- loader validation ---------------------------------------------------------------------------
GOOD = """
concepts:
  - {id: theme_energy, kind: theme, theme: energy, nl: [energie], de: [Energie], en: [energy]}
  - {id: welding, kind: sector, theme: energy, nl: [lassen], de: [Schweißen], en: [welding]}
"""


def test_a_small_taxonomy_loads() -> None:
    tx = parse(GOOD)
    assert tx.concepts_in("Schweißer", "de") == {"welding"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("concepts: nope", "a `concepts:` list"),
        ("concepts: [{id: Welding, kind: sector, nl: [a], de: [b], en: [c]}]", "snake_case"),
        ("concepts: [{id: a, kind: thing, nl: [a], de: [b], en: [c]}]", "kind 'thing'"),
        ("concepts: [{id: a, kind: sector, nl: [lassen], en: [welding]}]", "missing de"),
        ("concepts: [{id: a, kind: sector, nl: [], de: [b], en: [c]}]", "non-empty list"),
        ("concepts: [{id: a, kind: sector, nl: [x], de: [y], en: [z], broder: b}]", "unknown key"),
        (
            "concepts: [{id: a, kind: sector, nl: [aaaa], de: [bbbb], en: [cccc]},"
            " {id: a, kind: term, nl: [dddd], de: [eeee], en: [ffff]}]",
            "used twice",
        ),
        ("concepts: [{id: a, kind: sector, broader: b, nl: [x], de: [y], en: [z]}]", "broader 'b' is not"),
        ("concepts: [{id: a, kind: sector, theme: energy, nl: [x], de: [y], en: [z]}]", "theme 'energy' is not"),
        ("concepts: [{id: a, kind: theme, nl: [x], de: [y], en: [z]}]", "needs `theme: <slug>`"),
        (
            "concepts: [{id: a, kind: sector, broader: b, nl: [xxxx], de: [yyyy], en: [zzzz]},"
            " {id: b, kind: sector, broader: a, nl: [uuuu], de: [vvvv], en: [wwww]}]",
            "circle",
        ),
        (
            "concepts: [{id: a, kind: sector, nl: [lasser], de: [x1], en: [y1]},"
            " {id: b, kind: sector, nl: [lassers], de: [x2], en: [y2]}]",
            "one concept",
        ),
        (
            "homographs: {nl: [fiets]}\nconcepts: [{id: a, kind: sector, nl: [lassen], de: [b], en: [c]}]",
            "not nl words",
        ),
        ("concepts: [{id: a, kind: sector, nl: ['=twee woorden'], de: [b], en: [c]}]", "cannot be '=' exact"),
        ("concepts: [{id: a, kind: sector, nl: ['!!'], de: [b], en: [c]}]", "no letters"),
        ("concepts: [", "not valid YAML"),
    ],
)
def test_validation_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message.replace("(", r"\(").replace("`", "`")):
        parse(text)
