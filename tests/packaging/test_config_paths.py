"""Paths in the config file are taken from the file's folder, not the working directory."""

from __future__ import annotations

from pathlib import Path

from diabot.config import load_settings, resolve_config_paths
from diabot.plugin import PluginConfig

CONFIG = """
matrix: {homeserver: "http://127.0.0.1:1", user_id: "@bot:localhost", password: x}
data_dir: state
themes_file: ../shared/themes.yaml
translation: {glossary: glossary.yaml, packages_dir: /opt/argos}
"""


class _Nested(PluginConfig):
    feed_dir: Path = Path("feeds")


class _PluginWithPaths(PluginConfig):
    export_file: Path = Path("out/export.csv")
    absolute: Path = Path("/var/lib/x")
    nested: _Nested = _Nested()
    name: str = "not a path"


def test_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    conf = tmp_path / "etc" / "diabot.yaml"
    conf.parent.mkdir()
    conf.write_text(CONFIG)
    monkeypatch.chdir(tmp_path)  # the working directory is elsewhere
    settings = load_settings(Path("etc/diabot.yaml"))
    assert settings.data_dir == tmp_path / "etc" / "state"
    assert settings.themes_file == tmp_path / "shared" / "themes.yaml"
    assert settings.translation.glossary == tmp_path / "etc" / "glossary.yaml"
    assert settings.translation.packages_dir == Path("/opt/argos")  # absolute stays

    plugin = _PluginWithPaths()
    resolve_config_paths(plugin, settings)
    assert plugin.export_file == tmp_path / "etc" / "out" / "export.csv"
    assert plugin.absolute == Path("/var/lib/x")
    assert plugin.nested.feed_dir == tmp_path / "etc" / "feeds"
    assert plugin.name == "not a path"


def test_default_packages_dir_is_in_the_data_dir(tmp_path):
    conf = tmp_path / "diabot.yaml"
    conf.write_text(CONFIG.replace(", packages_dir: /opt/argos", ""))
    assert load_settings(conf).translation.packages_dir == tmp_path / "state" / "argos-packages"
