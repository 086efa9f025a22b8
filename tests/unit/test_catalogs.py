"""Every user-facing text exists in nl, de and en with the same placeholders."""

from pathlib import Path

from diabot.commands import Router
from diabot.i18n import LANGUAGES, Catalog

ROOT = Path(__file__).resolve().parents[2]
DIRS = [ROOT / "diabot" / "locales", *sorted(p for p in (ROOT / "plugins").glob("*/locales"))]


def test_catalog_dirs_exist():
    assert (ROOT / "plugins" / "core" / "locales") in DIRS
    for folder in DIRS:
        for lang in LANGUAGES:
            assert (folder / f"{lang}.yaml").exists(), f"{folder}/{lang}.yaml missing"


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
    from diabot.app import load_plugin_class

    catalog = Catalog.from_dirs(DIRS)
    router = Router()
    for folder in (ROOT / "plugins").glob("*/plugin.py"):
        cls = load_plugin_class(folder.parent.name)
        router.add_plugin(cls.name, cls.__new__(cls))
    assert router.commands
    for bound in router.commands:
        assert catalog.has(bound.spec.help), bound.spec.help
        # Dutch and German users get a name in their language or the English one.
        assert bound.spec.name


def test_lookup_falls_back_and_formats():
    catalog = Catalog({"nl": {}, "de": {"k": "Hallo {name}"}, "en": {"k": "Hello {name}"}})
    assert catalog.t("de", "k", name="Jan") == "Hallo Jan"
    assert catalog.t("nl", "k", name="Jan") == "Hello Jan"
    assert catalog.t("en", "k") == "Hello {name}"  # missing param: no crash
