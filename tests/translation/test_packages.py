"""A broken package in the packages dir (no metadata.json, unreadable JSON,
no model) is skipped with one warning; the good ones still load. Before,
argostranslate's get_installed_packages raised for all of them and the bot
did not start (issue 12, low)."""

import asyncio
import json
import logging
import shutil
from types import SimpleNamespace

import pytest

from devtools.argos_model import build_argosmodel
from diabot.config import TranslationSettings
from diabot.translation import build_translator
from diabot.translation.engine import ArgosEngine, EngineSettings


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    build_argosmodel(folder, "nl", "en")
    return folder


def test_broken_packages_are_skipped_with_one_warning_each(models, tmp_path, caplog):
    packages = tmp_path / "packages"
    ArgosEngine(EngineSettings(packages)).install_file(models)
    (good,) = [p for p in packages.iterdir() if p.is_dir()]
    no_metadata = packages / "translate-de_en"
    shutil.copytree(good, no_metadata)
    (no_metadata / "metadata.json").unlink()
    bad_json = packages / "translate-en_de"
    shutil.copytree(good, bad_json)
    (bad_json / "metadata.json").write_text("{not json")
    not_an_object = packages / "translate-en_nl"
    shutil.copytree(good, not_an_object)
    (not_an_object / "metadata.json").write_text(json.dumps(["nl", "en"]))
    no_model = packages / "translate-de_nl"
    shutil.copytree(good, no_model)
    shutil.rmtree(no_model / "model")

    caplog.set_level(logging.WARNING, logger="diabot.translation.engine")
    engine = ArgosEngine(EngineSettings(packages))  # what the bot does at start

    assert engine.installed() == [("nl", "en")]
    warned = sorted(r.path for r in caplog.records if r.levelno == logging.WARNING)
    assert warned == sorted(str(p) for p in (no_metadata, bad_json, not_an_object, no_model))
    assert engine.translate_sentences(("nl", "en"), ["Wij zoeken een partner."])


def test_the_bot_starts_translating_with_a_broken_package_next_to_good_ones(models, tmp_path):
    settings = TranslationSettings(packages_dir=tmp_path / "packages")
    ArgosEngine(EngineSettings(settings.packages_dir)).install_file(models)
    (settings.packages_dir / "half-copied").mkdir()  # e.g. an interrupted manual copy
    translator = build_translator(settings)
    try:
        assert translator.can_translate("nl", "en")
        assert asyncio.run(translator.translate("Wij zoeken een partner.", "nl", "en"))
    finally:
        translator.close()


async def test_a_package_installed_while_the_bot_runs_is_picked_up(models, tmp_path, capsys):
    """`diabot models install` in another process: the bot's translator sees
    it at its next look (the app looks every MODELS_CHECK_S) or at once when
    a text has no model for its direction."""
    from diabot.translation import MODELS_CHECK_S
    from diabot.translation.models_cli import main as models_cli

    settings = TranslationSettings(packages_dir=tmp_path / "packages")
    translator = build_translator(settings)
    try:
        assert not translator.can_translate("nl", "en")
        assert await translator.refresh_models() is False  # nothing changed: nothing reloaded
        cli = SimpleNamespace(translation=settings, config_file=tmp_path / "diabot.yaml")
        assert models_cli(cli, ["install", str(models)]) == 0
        said = capsys.readouterr().out
        assert f"installed nl→en (in {settings.packages_dir})" in said
        assert f"picks them up within {MODELS_CHECK_S} s" in said
        assert f"nl→de: missing, install with: diabot -c {tmp_path / 'diabot.yaml'} models install en-de" in said
        # The next text in that direction finds it, without a restart.
        assert await translator.translate("Wij zoeken een partner.", "nl", "en")
        assert translator.can_translate("nl", "en")
        assert await translator.refresh_models() is False
        # Removed again: gone at the next look.
        assert models_cli(cli, ["remove", "nl-en"]) == 0
        assert await translator.refresh_models() is True and not translator.can_translate("nl", "en")
    finally:
        translator.close()


def test_a_running_bot_never_sees_half_a_package(models, tmp_path):
    """The CLI unzips into a hidden folder and moves the package in with one
    rename; hidden folders are no packages."""
    packages = tmp_path / "packages"
    engine = ArgosEngine(EngineSettings(packages))
    (packages / ".installing-x").mkdir()
    (packages / ".installing-x" / "translate-nl_en").mkdir()
    assert engine.reload_if_changed() is False  # a hidden folder changes nothing
    assert engine.install_file(models) == [("nl", "en")]
    assert engine.install_file(models) == [("nl", "en")]  # installed again: replaced
    assert sorted(p.name for p in packages.iterdir() if not p.name.startswith(".installing-x")) == ["translate-nl_en"]
