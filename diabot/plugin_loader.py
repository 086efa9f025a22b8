"""Finding the enabled plugins and validating their settings (the app, check-config
and the test harness use it; no Matrix import here)."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from pydantic import ValidationError

from .config import Settings, resolve_config_paths
from .errors import ConfigError
from .plugin import Plugin, PluginConfig


def load_plugin_class(name: str) -> type[Plugin[Any]]:
    module = importlib.import_module(f"plugins.{name}.plugin")
    for obj in vars(module).values():
        if inspect.isclass(obj) and issubclass(obj, Plugin) and obj is not Plugin and obj.name == name:
            return obj
    raise ConfigError([f"plugins.{name}: the plugin module defines no Plugin named {name!r}"])


def plugin_configs(settings: Settings) -> dict[str, tuple[type[Plugin[Any]], PluginConfig]]:
    """Validate every enabled plugin's own settings up front (check-config too)."""
    out: dict[str, tuple[type[Plugin[Any]], PluginConfig]] = {}
    problems: list[str] = []
    for name, raw in settings.plugins.items():
        try:
            cls = load_plugin_class(name)
        except ModuleNotFoundError:
            problems.append(f"plugins.{name}: no such plugin (expected plugins/{name}/plugin.py)")
            continue
        try:
            config = cls.Config.model_validate(raw or {})
            resolve_config_paths(config, settings)
            out[name] = (cls, config)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(["plugins", name, *map(str, err["loc"])])
                problems.append(f"{path}: {err['msg']}")
    if problems:
        raise ConfigError(problems)
    return out
