"""Catalog texts: the command prefix is always given, never hard-coded."""

import logging
import re
import string
from pathlib import Path

import pytest

from diabot.formatting import render_html
from diabot.i18n import Catalog

ROOT = Path(__file__).resolve().parents[2]
DIRS = [ROOT / "diabot" / "locales", *sorted(p for p in (ROOT / "plugins").glob("*/locales"))]
# A command written into a text: "!" (or another prefix) right before a letter.
COMMAND = re.compile(r"[!?](?=[^\W\d_])")


def dummy_params(text: str) -> dict[str, object]:
    """A value for every placeholder but `p`: a number where a format spec wants one."""
    params: dict[str, object] = {}
    for _, name, spec, _ in string.Formatter().parse(text):
        if name and name != "p":
            params[name] = 2 if spec else "x"
    return params


def forms(text: str | dict[str, str]) -> list[tuple[str, object]]:
    """Each form of a text with a count that selects it."""
    if isinstance(text, str):
        return [(text, 2)]
    return [(form, 1 if category == "one" else 2) for category, form in text.items()]


def test_no_catalog_text_hard_codes_the_prefix():
    catalog = Catalog.from_dirs(DIRS)
    assert sum(len(texts) for texts in catalog.texts.values()) > 100
    for lang, texts in catalog.texts.items():
        for key, text in texts.items():
            for form, _ in forms(text):
                assert not re.search(r"!(?=[^\W\d_])", form), (lang, key, form)


def test_every_text_renders_with_the_configured_prefix(caplog):
    """Every key of every catalog in nl/de/en, with dummy params: the prefix
    the community configured appears, `{p}` never stays, nothing is missing."""
    with_prefix = 0
    with caplog.at_level(logging.WARNING, logger="diabot.i18n"):
        for address in ("sie", "du"):
            catalog = Catalog.from_dirs(DIRS, prefix="?", german_address=address)
            # The "du" catalog: only its own German texts are new.
            texts = catalog.texts if address == "sie" else {"de": catalog.german_du}
            for lang, keys in texts.items():
                for key, text in keys.items():
                    for form, count in forms(text):
                        params = dummy_params(form)
                        if "count" in params:
                            params["count"] = count
                        out = catalog.t(lang, key, **params)
                        assert "{" not in out.replace("{x}", ""), (lang, key, out)
                        assert not re.search(r"!(?=[^\W\d_])", out), (lang, key, out)
                        with_prefix += "{p}" in form and address == "sie"
                        if "{p}" in form:
                            assert COMMAND.search(out), (lang, key, out)
    assert caplog.records == []
    assert with_prefix >= 18  # the texts that name a command (24 had a literal "!" before issue 7)


def test_prefix_is_always_given_and_renders_as_typed():
    catalog = Catalog(
        {"nl": {"k": "Typ {p}hulp of {p}taal {lang}"}, "de": {}, "en": {"k": "Type {p}help", "h": "{p}help"}}
    )
    assert catalog.t("nl", "k", lang="de") == "Typ !hulp of !taal de"
    assert catalog.t("en", "k") == "Type !help"
    assert catalog.t("de", "k") == "Type !help"  # the English fallback gets it too
    # A missing param degrades to its placeholder, the prefix is still filled in.
    assert catalog.t("nl", "k") == "Typ !hulp of !taal {lang}"
    # "!" is not markdown: no backslash in the body, the HTML shows the command.
    assert render_html(catalog.t("en", "k")) == "<p>Type !help</p>"
    assert render_html(catalog.t("en", "h")) == "<p>!help</p>"


def test_a_markdown_prefix_is_escaped_like_any_value():
    catalog = Catalog({"nl": {}, "de": {}, "en": {"k": "Use {p}help or {p}lang*"}}, prefix="*")
    assert render_html(catalog.t("en", "k")) == "<p>Use *help or *lang*</p>"  # no <em>


def test_a_value_containing_p_is_not_expanded():
    catalog = Catalog({"nl": {}, "de": {}, "en": {"k": "Hello {name}, type {p}help"}}, prefix="?")
    assert catalog.t("en", "k", name="{p}forget {0} {name}") == "Hello {p}forget {0} {name}, type ?help"


def test_placeholder_checks_ignore_p_and_see_plural_forms():
    catalog = Catalog(
        {
            "nl": {"a": "Typ {p}hulp", "b": {"one": "1 lid", "other": "{count} leden"}, "c": {"one": "x"}},
            "de": {"a": "Schreib !hilfe", "b": "{count} Mitglieder", "c": {"other": "y", "some": "z"}},
            "en": {"a": "Type {p}help", "b": {"one": "{count} member", "other": "{count} members"}, "c": "z"},
        }
    )
    assert catalog.problems() == [
        "c: plural forms in nl lack 'other'",
        "c: unknown plural categories in de: some",
    ]


def test_plural_yaml_loads_as_forms(tmp_path):
    (tmp_path / "en.yaml").write_text('k:\n  one: "{count} member"\n  other: "{count} members"\nt: "x"\n')
    catalog = Catalog.from_dirs([tmp_path])
    assert catalog.texts["en"] == {"k": {"one": "{count} member", "other": "{count} members"}, "t": "x"}
    (tmp_path / "nl.yaml").write_text("k: [a, b]\n")
    with pytest.raises(ValueError, match="not a text"):
        Catalog.from_dirs([tmp_path])
