"""`pip install .` works: the wheel carries the migrations, the catalogs and the
default themes, and an installed bot runs `migrate` and `check-config` far from
the checkout, with paths taken relative to its config file.

How this proves the wheel is self-contained: the wheel is built from a copy of
the sources and installed (`--no-deps`) into a fresh venv outside the checkout.
The dependencies come from this project's .venv through a `.pth` line naming its
site-packages: a plain path line adds the folder to sys.path but runs none of the
`.pth` files inside it, so the editable install's finder (which maps `diabot` to
the checkout) stays off. The bot runs from the venv's `diabot` script in a temp
cwd without PYTHONPATH; the test asserts the checkout is not on its sys.path and
that every module and resource it used lies inside the fresh venv.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "diabot", "plugins", "migrations", "config")
# Every plugin of the repository (those with a plugin.py): the installed wheel must carry them all.
PLUGINS = tuple(sorted(p.parent.name for p in (ROOT / "plugins").glob("*/plugin.py")))


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (outside the checkout) with only the diabot wheel installed; returns its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            # symlinks=True: diabot/defaults/themes.yaml links to config/themes.yaml (copied too).
            shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    # Build isolation fetches setuptools from the index (or pip's cache).
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("diabot-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        tmp,
    )
    purelib = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).stdout.strip()
    )
    (purelib / "zz_diabot_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


@pytest.fixture
def deployment(tmp_path) -> tuple[Path, Path]:
    """A config file with relative paths in its own folder, and an unrelated working directory."""
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "my-themes.yaml").write_text((ROOT / "config" / "themes.yaml").read_text(encoding="utf-8"))
    config = {
        "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@bot:localhost", "password": "x"},
        "data_dir": "state",
        "themes_file": "my-themes.yaml",
        "translation": {"enabled": False, "glossary": "glossary.yaml"},
        "web": {"enabled": False},
        "plugins": {name: {} for name in PLUGINS},
    }
    (conf / "diabot.yaml").write_text(yaml.safe_dump(config))
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    return conf / "diabot.yaml", cwd


def _clean_env(tmp: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8"}


def test_installed_bot_migrates_and_checks_config(installed, deployment):
    config, cwd = deployment
    env = _clean_env(cwd)
    relative = Path("..") / "etc" / "diabot.yaml"  # relative to the cwd, as an operator would type it

    checked = _run([str(installed / "diabot"), "-c", str(relative), "check-config"], cwd, env)
    assert "OK" in checked.stdout
    _run([str(installed / "diabot"), "-c", str(relative), "migrate"], cwd, env)

    # The database is in the config file's folder, not the working directory.
    db = config.parent / "state" / "diabot.db"
    assert db.exists()
    assert not (cwd / "state").exists()
    with sqlite3.connect(db) as conn:
        revisions = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert revisions == set(ScriptDirectory(str(ROOT / "migrations")).get_heads())
    assert {"handled_events", "outbox", "sent_events"} <= tables


def test_installed_resources_come_from_the_wheel(installed, deployment):
    config, cwd = deployment
    probe = """
import json, sys
import diabot, migrations, plugins
from diabot.config import load_settings
from diabot.plugin_loader import plugin_configs
from diabot.i18n import Catalog
from diabot.resources import default_themes_file, locale_dirs, migrations_dir, plugin_model_modules
settings = load_settings(__import__("pathlib").Path(sys.argv[1]))
plugin_configs(settings)  # every shipped plugin imports from the wheel
catalog = Catalog.from_dirs(locale_dirs())
print(json.dumps({
    "sys_path": sys.path,
    "modules": [m.__file__ for m in (diabot, migrations, plugins)],
    "themes": str(default_themes_file()),
    "themes_is_link": default_themes_file().is_symlink(),
    "migrations": str(migrations_dir()),
    "locales": [str(d) for d in locale_dirs()],
    "models": plugin_model_modules(),
    "keys": len(catalog.texts["en"]),
    "data_dir": str(settings.data_dir),
    "themes_file": str(settings.themes_file),
    "places": len(__import__("plugins.exchange.places", fromlist=["x"]).places().places),
}))
"""
    out = json.loads(_run([str(installed / "python"), "-c", probe, str(config)], cwd, _clean_env(cwd)).stdout)
    venv = str(installed.parent)
    deps = sysconfig.get_paths()["purelib"]  # the project's .venv, for the dependencies only
    assert not [entry for entry in out["sys_path"] if entry.startswith(str(ROOT)) and entry != deps]
    for path in [*out["modules"], out["themes"], out["migrations"], *out["locales"]]:
        assert path.startswith(venv), path
    # The default themes are a real file in the wheel with the repository's text, not a link back.
    assert not out["themes_is_link"]
    assert Path(out["themes"]).read_text(encoding="utf-8") == (ROOT / "config" / "themes.yaml").read_text("utf-8")
    assert len(out["locales"]) == 1 + len(PLUGINS)
    assert out["keys"] > 20
    assert "plugins.members.models" in out["models"]  # what migrations/env.py imports, from the venv
    assert out["places"] > 100  # data files other than YAML (the municipalities table) are in the wheel too
    # Paths in the config file are taken from the file's folder.
    assert out["data_dir"] == str(config.parent / "state")
    assert out["themes_file"] == str(config.parent / "my-themes.yaml")
