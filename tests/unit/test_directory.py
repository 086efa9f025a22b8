"""The community directory on a real (migrated) SQLite file: what it loads,
how it finds a theme by what a member types, and when changes show."""

from pathlib import Path

import pytest

from diabot.directory import SPACE_SLUG, CommunityDirectory, Theme, load_themes
from diabot.errors import ConfigError
from diabot.storage import Database

THEMES = [
    Theme.model_validate(t)
    for t in (
        {
            "slug": "welcome",
            "nl": {"name": "Welkom"},
            "de": {"name": "Willkommen"},
            "en": {"name": "Welcome"},
            "suggest": False,
            "welcome": True,
        },
        {
            "slug": "energy",
            "nl": {"name": "Energietransitie"},
            "de": {"name": "Energiewende"},
            "en": {"name": "Energy transition"},
        },
        {"slug": "skills", "nl": {"name": "Vakmensen en opleiding"}, "de": {"name": "Fachkräfte und Ausbildung"}},
        {
            "slug": "knowledge",
            "nl": {"name": "Kennisuitwisseling"},
            "de": {"name": "Wissensaustausch"},
            "translation": "reactions",
        },
        {
            "slug": "workgroup",
            "nl": {"name": "Werkgroep DIA"},
            "de": {"name": "Arbeitsgruppe DIA"},
            "suggest": False,
            "invite_only": True,
        },
    )
]


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    await database.migrate()
    yield database
    await database.close()


async def record(directory: CommunityDirectory, db: Database, slug: str, room_id: str, nl: str, de: str) -> None:
    async with db.transaction() as session:
        directory.remember(session, slug, room_id, nl, de)


@pytest.fixture
async def directory(db):
    """The space and every theme recorded, as after the first start (then a restart: load)."""
    first = CommunityDirectory(db, THEMES)
    await record(first, db, SPACE_SLUG, "!space:x", "DIA", "DIA")
    for theme in THEMES:
        await record(first, db, theme.slug, f"!{theme.slug}:x", theme.nl.name, theme.de.name)
    fresh = CommunityDirectory(db, THEMES)
    await fresh.load()
    return fresh


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("energy", "energy"),  # slug
        ("energie", "energy"),  # nl, part of a word
        ("Energiewende", "energy"),  # de
        ("energy transiton", "energy"),  # en, with a typo
        ("vakmensen", "skills"),
        ("Fachkraefte und Ausbildung", "skills"),  # de without umlaut
        ("Vakmensen en opleiding / Fachkräfte und Ausbildung", "skills"),  # the default en name
        ("  WILLKOMMEN ", "welcome"),
        ("welcome", "welcome"),
        ("arbeitsgruppe", "workgroup"),
        ("werkgroep", "workgroup"),
    ],
)
async def test_find_by_slug_or_name_in_any_language(directory, typed, slug):
    found = directory.find(typed)
    assert found is not None and found.slug == slug


@pytest.mark.parametrize("typed", ["quantum physics", "", "   ", "x"])
async def test_find_nothing_for_unrelated_text(directory, typed):
    assert directory.find(typed) is None


async def test_load_restores_rooms_space_and_theme_properties(directory):
    assert directory.space_id == "!space:x"
    assert [t.slug for t in directory.themes()] == [t.slug for t in THEMES]  # order of creation
    energy = directory.theme_of("!energy:x")
    assert energy is not None and energy.slug == "energy"
    assert energy.name("nl") == "Energietransitie" and energy.name("de") == "Energiewende"
    assert energy.name("en") == "Energy transition"
    assert directory.by_slug("skills").name("en") == "Vakmensen en opleiding / Fachkräfte und Ausbildung"
    assert directory.by_slug("knowledge").translation == "reactions" and energy.translation == "auto"
    workgroup = directory.by_slug("workgroup")
    assert workgroup.invite_only and not workgroup.suggest and not energy.invite_only
    assert [t.slug for t in directory.themes() if t.suggest] == ["energy", "skills", "knowledge"]
    assert directory.theme_of("!elsewhere:x") is None


async def test_welcome_room_is_the_theme_marked_welcome(directory):
    assert directory.welcome_room().room_id == "!welcome:x"


async def test_community_rooms_are_the_space_and_themed_rooms(directory):
    assert directory.is_community_room("!space:x") and directory.is_community_room("!skills:x")
    assert not directory.is_community_room("!dm:x")


async def test_archived_rooms_leave_the_listing_and_the_lookup(directory, db):
    async with db.transaction() as session:
        await directory.archive(session, "energy")
        assert not directory.by_slug("energy").archived  # not before the commit
    assert directory.by_slug("energy").archived
    assert "energy" not in [t.slug for t in directory.themes()]
    assert directory.find("energie") is None
    assert directory.find("energie", include_archived=True).slug == "energy"
    assert directory.theme_of("!energy:x").archived  # still ours: its history is a themed room's
    reloaded = CommunityDirectory(db, THEMES)
    await reloaded.load()
    assert reloaded.by_slug("energy").archived


async def test_archived_welcome_room_is_no_welcome_room(directory, db):
    async with db.transaction() as session:
        await directory.archive(session, "welcome")
    assert directory.welcome_room() is None


async def test_a_recorded_room_shows_only_once_committed(directory, db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            directory.remember(session, "markt", "!markt:x", "Markt", "Markt")
            raise RuntimeError("stop before the commit")
    assert directory.by_slug("markt") is None
    await record(directory, db, "markt", "!markt:x", "Markt en handel", "Markt und Handel")
    markt = directory.find("markt und handel")
    # A room a moderator made has no theme in the file: the defaults.
    assert markt.room_id == "!markt:x" and markt.translation == "auto" and markt.suggest
    assert not markt.welcome and not markt.invite_only
    assert markt.name("en") == "Markt en handel / Markt und Handel"


async def test_configured_space_wins_over_the_plugins(db):
    directory = CommunityDirectory(db, THEMES, configured_space="!configured:x")
    await record(directory, db, SPACE_SLUG, "!made:x", "DIA", "DIA")
    assert directory.space_id == "!configured:x"
    unconfigured = CommunityDirectory(db, THEMES)
    await unconfigured.load()
    assert unconfigured.space_id == "!made:x"


async def test_space_of_older_versions_is_read_from_the_kv_store(db):
    await db.set_value("community.space_id", "!old:x")
    directory = CommunityDirectory(db, THEMES)
    await directory.load()
    assert directory.space_id == "!old:x"


def test_shipped_themes_have_one_welcome_room_and_an_invite_only_workgroup():
    themes = {t.slug: t for t in load_themes()}
    assert [s for s, t in themes.items() if t.welcome] == ["welcome"]
    assert [s for s, t in themes.items() if t.invite_only] == ["workgroup"]
    assert not themes["workgroup"].suggest and not themes["welcome"].suggest


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        (
            "themes:\n"
            "  - {slug: a, nl: {name: A}, de: {name: A}, welcome: true}\n"
            "  - {slug: b, nl: {name: B}, de: {name: B}, welcome: true}\n",
            "only one theme can be the welcome room",
        ),
        (
            "themes:\n  - {slug: a, nl: {name: A}, de: {name: A}}\n  - {slug: a, nl: {name: B}, de: {name: B}}\n",
            "slugs used twice: a",
        ),
        ("themes:\n  - {slug: a, nl: {name: A}, de: {name: A}, sugest: false}\n", "themes.0.sugest"),
        ("themes: [\n", "not valid YAML"),
    ],
)
def test_bad_themes_files_are_config_errors(tmp_path: Path, yaml_text, problem):
    path = tmp_path / "themes.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_themes(path)
    assert problem in "\n".join(err.value.problems)
