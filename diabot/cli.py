"""`diabot run | migrate | check-config` (also `python bot.py ...`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from .config import Settings, load_settings
from .errors import ConfigError

EXIT_CONFIG = 2
EXIT_IDENTITY = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diabot", description="Matrix bot for the NL/DE entrepreneurs' network")
    parser.add_argument("-c", "--config", type=Path, default=Path("config/diabot.yaml"), help="YAML settings file")
    # `-c` also after the command (`diabot models install -c X nl-en`); SUPPRESS keeps the one given before it.
    config_after = argparse.ArgumentParser(add_help=False)
    config_after.add_argument("-c", "--config", type=Path, default=argparse.SUPPRESS, help="YAML settings file")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="run the bot (applies migrations first)", parents=[config_after])
    sub.add_parser("migrate", help="apply database migrations and exit", parents=[config_after])
    sub.add_parser("check-config", help="validate the configuration and exit", parents=[config_after])
    identity = sub.add_parser(
        "identity", help="the bot's cross-signed identity: status | reset", parents=[config_after]
    )
    identity.add_argument("action", choices=("status", "reset"))
    identity.add_argument("--yes", action="store_true", help="reset without asking (scripts)")
    models = sub.add_parser(
        "models", help="translation models: list | status | install X… | remove X", parents=[config_after]
    )
    models.add_argument("action", nargs="*", default=["status"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Everything the bot writes (database, crypto store, keys, exports) is for its own user only.
    os.umask(0o077)
    try:
        settings = load_settings(args.config)
        from .directory import load_themes
        from .plugin_loader import plugin_configs

        plugin_configs(settings)
        load_themes(settings.themes_file)
    except ConfigError as exc:
        print(f"configuration error in {args.config}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_CONFIG
    placeholder = _placeholder_password(settings)
    if args.cmd == "check-config":
        print(f"{args.config}: OK")
        if placeholder:
            print(f"warning: {placeholder}; `diabot run` refuses to start with it")
        _identity_advice(settings)
        return 0
    if args.cmd == "run" and placeholder:
        print(f"configuration error in {args.config}:\n  - {placeholder}", file=sys.stderr)
        return EXIT_CONFIG

    if args.cmd == "identity":
        from .matrix.identity_cli import main as identity_main

        return identity_main(settings, args.action, args.yes)

    if args.cmd == "models":
        from .translation.models_cli import main as models_main

        return models_main(settings, args.action)

    from .logs import setup_logging

    setup_logging(settings.logging.level, settings.logging.format, settings.secrets())
    if args.cmd == "migrate":
        from .storage.db import migrate

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.database_url())
        print("database is at the latest revision")
        return 0
    from .app import App
    from .matrix.identity import IdentityError

    try:
        asyncio.run(App(settings).run())
    except IdentityError as exc:
        # The operator must act (restore the keys file, reset, or a token); say what, without a traceback.
        logging.getLogger("diabot").error("cannot set up the bot's cross-signed identity: %s", exc)
        print(f"identity: {exc}", file=sys.stderr)
        return EXIT_IDENTITY
    return 0


def _placeholder_password(settings: Settings) -> str | None:
    """The example config's password left in place: a start would only fail to log in (or,
    worse, work on a test server someone set up with it)."""
    password = settings.matrix.password
    if settings.matrix.access_token is None and password is not None and password.get_secret_value() == "change-me":
        return (
            "matrix.password is still the example's placeholder \"change-me\": set the bot's password "
            "(better: in DIABOT_MATRIX_PASSWORD)"
        )
    return None


def _identity_advice(settings) -> None:
    """Warn before the first start if the homeserver cannot do a password-confirmed set-up."""
    from .matrix.identity import KEYS_FILE, MAS_ADVICE, delegates_auth

    if not settings.matrix.cross_signing or (settings.data_dir / KEYS_FILE).exists():
        return
    if settings.matrix.access_token is None and asyncio.run(delegates_auth(settings.matrix.homeserver)):
        print(f"note: {MAS_ADVICE}")


if __name__ == "__main__":
    sys.exit(main())
