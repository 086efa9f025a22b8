"""Files that ship inside the installed packages (package data), found with
importlib.resources, never relative to the repository or the working directory.

The wheel is installed unzipped, so every resource is a real file; the
functions return `Path`s because Alembic and the loaders want paths.
"""

from __future__ import annotations

import importlib.util
import pkgutil
from importlib.resources import files
from pathlib import Path

PLUGINS_PACKAGE = "plugins"


def resource_path(package: str, *parts: str) -> Path:
    """`parts` inside `package` (a dotted name), e.g. resource_path("diabot", "locales")."""
    found = files(package).joinpath(*parts)
    if not isinstance(found, Path):  # a zip import: not supported (Alembic needs a directory)
        raise RuntimeError(f"{package}/{'/'.join(parts)} is not on the file system: install diabot unzipped")
    return found


def default_themes_file() -> Path:
    """The default themes (space and themed rooms); in the repository also at config/themes.yaml."""
    return resource_path("diabot", "defaults", "themes.yaml")


def migrations_dir() -> Path:
    """Alembic's script_location: the top-level `migrations` package."""
    return resource_path("migrations")


def plugin_names() -> list[str]:
    """Every plugin package shipped under `plugins`, enabled or not."""
    import plugins

    return sorted(info.name for info in pkgutil.iter_modules(plugins.__path__) if info.ispkg)


def plugin_model_modules() -> list[str]:
    """Dotted names of the plugins' `models` modules (their tables belong to the one schema)."""
    names = (f"{PLUGINS_PACKAGE}.{name}.models" for name in plugin_names())
    return [name for name in names if importlib.util.find_spec(name) is not None]


def locale_dirs(plugins: list[str] | None = None) -> list[Path]:
    """The core's catalog folder and those of `plugins` (default: all) that have one."""
    folders = [resource_path("diabot", "locales")]
    for name in plugin_names() if plugins is None else plugins:
        try:
            folder = resource_path(f"{PLUGINS_PACKAGE}.{name}", "locales")
        except ModuleNotFoundError:  # reported by plugin_configs, with the config key
            continue
        if folder.is_dir():
            folders.append(folder)
    return folders
