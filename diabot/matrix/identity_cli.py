"""`diabot identity status | reset`: the bot's cross-signed identity, for operators."""

from __future__ import annotations

import asyncio
import json
import stat
import sys

from ..config import Settings
from .http import HttpApi
from .identity import CrossSigning, IdentityError, IdentityStatus, KeyStore

RESET_WARNING = """\
A reset replaces the bot's cross-signing identity. Every member's client will
show that the bot's identity changed (Element: "identity reset" warning) until
they accept it, and keys withheld before are not re-shared.
Type RESET to continue: """


def _credentials(settings: Settings) -> tuple[str, str, str]:
    path = settings.data_dir / "credentials.json"
    try:
        creds = json.loads(path.read_text())
        return creds["user_id"], creds["device_id"], creds["access_token"]
    except (OSError, ValueError, KeyError):
        raise IdentityError(f"no login in {path}: start the bot once (`diabot run`) so it has a device") from None


def _print_status(st: IdentityStatus, store: KeyStore, device_id: str) -> None:
    print(f"master key:        {st.fingerprint or '(none: the account has no cross-signing keys)'}")
    print(f"self-signing key:  {'signed by the master key' if st.self_signing_valid else 'missing or not signed'}")
    print(f"this device:       {device_id} {'signed' if st.device_signed else 'NOT signed'}")
    if store.exists():
        mode = stat.S_IMODE(store.path.stat().st_mode)
        held = "matches the account" if st.keys_held else "does NOT match the account"
        print(f"private keys:      {store.path} (mode {mode:o}), {held}")
    else:
        print(f"private keys:      none in {store.path}")
    others = sorted(d for d in st.devices_signed if d != device_id)
    if others:
        print(
            "other devices:     " + ", ".join(f"{d} {'signed' if st.devices_signed[d] else 'unsigned'}" for d in others)
        )


async def _run(settings: Settings, action: str, yes: bool) -> int:
    user_id, device_id, token = _credentials(settings)
    store = KeyStore(settings.data_dir)
    password = settings.matrix.password.get_secret_value() if settings.matrix.password else None
    async with HttpApi(settings.matrix.homeserver, token) as api:
        identity = CrossSigning(api, user_id, device_id, store, password)
        if action == "status":
            st = await identity.status()
            _print_status(st, store, device_id)
            return 0 if st.ok else 1
        if action == "reset":
            if not yes:
                if not sys.stdin.isatty():
                    print("refusing to reset without confirmation: pass --yes", file=sys.stderr)
                    return 2
                if (await asyncio.to_thread(input, RESET_WARNING)).strip() != "RESET":
                    print("not reset")
                    return 1
            st = await identity.reset()
            print("identity replaced; the bot's devices are signed with the new keys")
            _print_status(st, store, device_id)
            print("back up the new keys file together with the crypto store")
            return 0
    print(f"unknown action {action!r}: use status or reset", file=sys.stderr)
    return 2


def main(settings: Settings, action: str, yes: bool) -> int:
    try:
        return asyncio.run(_run(settings, action, yes))
    except IdentityError as exc:
        print(f"identity: {exc}", file=sys.stderr)
        return 1
