"""Every user-facing text exists in nl, de and en with the same placeholders."""

from pathlib import Path

import pytest

from diabot.commands import Invocation, Router
from diabot.errors import UsageError
from diabot.i18n import LANGUAGES, Catalog

ROOT = Path(__file__).resolve().parents[2]
DIRS = [ROOT / "diabot" / "locales", *sorted(p for p in (ROOT / "plugins").glob("*/locales"))]


def test_catalog_dirs_exist():
    assert (ROOT / "plugins" / "core" / "locales") in DIRS
    for folder in DIRS:
        for lang in LANGUAGES:
            assert (folder / f"{lang}.yaml").exists(), f"{folder}/{lang}.yaml missing"


def test_the_bot_finds_every_catalog_through_its_packages():
    from diabot.resources import locale_dirs

    # What app.py loads (importlib.resources, as installed) is every catalog folder of the repository.
    assert [p.resolve() for p in locale_dirs()] == [p.resolve() for p in DIRS]
    assert locale_dirs(["core", "no-such-plugin"]) == [
        ROOT / "diabot" / "locales",
        ROOT / "plugins" / "core" / "locales",
    ]


def test_no_key_missing_in_any_language():
    catalog = Catalog.from_dirs(DIRS)
    assert catalog.problems() == []
    assert len(catalog.texts["en"]) > 20


def test_problems_are_detected():
    catalog = Catalog({"nl": {"a": "x {n}"}, "de": {"a": "y"}, "en": {"a": "z {n}", "b": "only en"}})
    problems = catalog.problems()
    assert any(p.startswith("a: placeholders differ") for p in problems)
    assert "b: missing in nl, de" in problems


def test_every_command_help_key_exists():
    from diabot.plugin_loader import load_plugin_class

    catalog = Catalog.from_dirs(DIRS)
    router = Router()
    for folder in (ROOT / "plugins").glob("*/plugin.py"):
        cls = load_plugin_class(folder.parent.name)
        router.add_plugin(cls.name, cls.__new__(cls))
    assert router.commands
    for bound in router.commands:
        assert catalog.has(bound.spec.help), bound.spec.help
    # Dutch and German users get a name in their language or the English one.
    assert any(bound.spec.aliases.get("nl") for bound in router.commands)
    assert any(bound.spec.aliases.get("de") for bound in router.commands)
    for bound in router.commands:
        for lang in LANGUAGES:
            shown = router.display_name(bound.spec, lang)
            assert shown in (bound.spec.aliases.get(lang) or (bound.spec.name,)), (lang, shown, bound.spec.name)
            # The name that help shows can be typed, and it reaches this command.
            assert _command_typed(router, shown) is bound, (lang, shown)


def _command_typed(router: Router, name: str):
    try:
        parsed = router.parse(f"{router.prefix}{name}")
    except UsageError as exc:  # the command was found; its arguments are missing
        return next(b for b in router.commands if b.spec is exc.spec)
    return parsed.command if isinstance(parsed, Invocation) else parsed


def test_lookup_falls_back_and_formats():
    catalog = Catalog({"nl": {}, "de": {"k": "Hallo {name}"}, "en": {"k": "Hello {name}"}})
    assert catalog.t("de", "k", name="Jan") == "Hallo Jan"
    assert catalog.t("nl", "k", name="Jan") == "Hello Jan"
    assert catalog.t("en", "k") == "Hello {name}"  # missing param: no crash


def test_german_du_overlay_replaces_only_its_keys(tmp_path):
    for lang, text in (
        ("nl", "Welkom {name}"),
        ("de", "Willkommen, {name}. Schreiben Sie {p}hilfe."),
        ("en", "Hi {name}"),
    ):
        (tmp_path / f"{lang}.yaml").write_text(f'k: "{text}"\nshared: "{lang}"\n', encoding="utf-8")
    (tmp_path / "de.du.yaml").write_text('k: "Willkommen, {name}. Schreib {p}hilfe."\n', encoding="utf-8")
    sie = Catalog.from_dirs([tmp_path])
    du = Catalog.from_dirs([tmp_path], german_address="du")
    assert sie.t("de", "k", name="Jan") == "Willkommen, Jan. Schreiben Sie !hilfe."
    assert du.t("de", "k", name="Jan") == "Willkommen, Jan. Schreib !hilfe."
    assert du.t("de", "shared") == "de"  # not in the overlay: the common text
    assert du.t("nl", "k", name="Jan") == "Welkom Jan"  # only German has two forms of address
    assert sie.problems() == du.problems() == []


def test_german_du_overlay_is_checked(tmp_path):
    for lang in LANGUAGES:
        (tmp_path / f"{lang}.yaml").write_text('k: "{name}"\n', encoding="utf-8")
    (tmp_path / "de.du.yaml").write_text('k: "{naam}"\n', encoding="utf-8")
    assert any(p.startswith("k: placeholders differ") for p in Catalog.from_dirs([tmp_path]).problems())
    (tmp_path / "de.du.yaml").write_text('typo: "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match='no "Sie" form'):
        Catalog.from_dirs([tmp_path])


def test_every_german_du_text_differs_from_its_sie_form():
    catalog = Catalog.from_dirs(DIRS)
    assert catalog.german_du, "no de.du.yaml overlay found"
    same = [key for key, text in catalog.german_du.items() if text == catalog.texts["de"][key]]
    assert same == []
