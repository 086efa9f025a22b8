"""`diabot run | migrate | check-config` (also `python bot.py ...`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from .config import load_settings
from .errors import ConfigError

EXIT_CONFIG = 2
EXIT_IDENTITY = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diabot", description="Matrix bot for the NL/DE entrepreneurs' network")
    parser.add_argument("-c", "--config", type=Path, default=Path("config/diabot.yaml"), help="YAML settings file")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="run the bot (applies migrations first)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("check-config", help="validate the configuration and exit")
    identity = sub.add_parser("identity", help="the bot's cross-signed identity: status | reset")
    identity.add_argument("action", choices=("status", "reset"))
    identity.add_argument("--yes", action="store_true", help="reset without asking (scripts)")
    models = sub.add_parser("models", help="translation models: list | status | install X | remove X")
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
    if args.cmd == "check-config":
        print(f"{args.config}: OK")
        _identity_advice(settings)
        return 0

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


def _identity_advice(settings) -> None:
    """Warn before the first start if the homeserver cannot do a password-confirmed set-up."""
    from .matrix.identity import KEYS_FILE, MAS_ADVICE, delegates_auth

    if not settings.matrix.cross_signing or (settings.data_dir / KEYS_FILE).exists():
        return
    if settings.matrix.access_token is None and asyncio.run(delegates_auth(settings.matrix.homeserver)):
        print(f"note: {MAS_ADVICE}")


if __name__ == "__main__":
    sys.exit(main())
