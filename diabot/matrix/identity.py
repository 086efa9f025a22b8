"""The bot's cross-signed identity (master, self-signing, user-signing keys).

Current Element excludes devices their owner has not cross-signed (MSC4153):
it neither decrypts their messages nor shares room keys with them. matrix-nio
has no cross-signing, so this module does it with the client-server API:

1. the device's keys are on the server (nio uploads them);
2. the account has a master key whose private half we hold (generated and
   saved *before* the upload, so a crash never leaves keys we do not have);
3. the current device is signed by the self-signing key;
4. `/keys/query` shows exactly that chain, each signature verified.

Signing follows the Matrix rules (canonical JSON without `signatures` and
`unsigned`, unpadded base64) through matrix.org's own `signedjson`, the
library Synapse verifies with. The private keys live in one file in the data
dir (mode 600). Nothing here logs key material.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from signedjson.key import (
    decode_signing_key_base64,
    decode_verify_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json
from signedjson.types import SigningKey

log = logging.getLogger(__name__)

KEYS_FILE = "cross_signing.json"
ROLES = ("master", "self_signing", "user_signing")
_USAGE = {"master": "master", "self_signing": "self_signing", "user_signing": "user_signing"}
# MSC4153 / MAS: a reset of cross-signing is approved in the browser.
MAS_RESET_STAGE = "org.matrix.cross_signing_reset"

Json = dict[str, Any]


class IdentityError(RuntimeError):
    """The identity cannot be set up without the operator; the text says what to do."""


class Api(Protocol):
    """Authenticated client-server requests: returns (HTTP status, JSON body)."""

    async def request(self, method: str, path: str, body: Json | None = None) -> tuple[int, Json]: ...


@dataclass
class CrossSigningKeys:
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(*(_new_key() for _ in ROLES))

    def key(self, role: str) -> SigningKey:
        return getattr(self, role)

    def public(self, role: str) -> str:
        return encode_verify_key_base64(get_verify_key(self.key(role)))

    @property
    def fingerprint(self) -> str:
        """The master key as Element shows it: base64 in groups of four."""
        pub = self.public("master")
        return " ".join(pub[i : i + 4] for i in range(0, len(pub), 4))

    def to_json(self) -> Json:
        return {"version": 1, **{role: encode_signing_key_base64(self.key(role)) for role in ROLES}}

    @classmethod
    def from_json(cls, data: Json) -> CrossSigningKeys:
        keys = []
        for role in ROLES:
            seed = data[role]
            probe = decode_signing_key_base64("ed25519", "x", seed)
            keys.append(decode_signing_key_base64("ed25519", encode_verify_key_base64(get_verify_key(probe)), seed))
        return cls(*keys)

    def key_object(self, user_id: str, role: str) -> Json:
        """The public key object for /keys/device_signing/upload, signed as the spec wants."""
        pub = self.public(role)
        obj: Json = {"user_id": user_id, "usage": [_USAGE[role]], "keys": {f"ed25519:{pub}": pub}}
        if role != "master":
            obj = sign_json(obj, user_id, self.master)
        return obj


def _new_key() -> SigningKey:
    # signedjson names a key by a "version"; for cross-signing the key id is
    # the public key itself, so generate first, then name it.
    key = generate_signing_key("tmp")
    key.version = encode_verify_key_base64(get_verify_key(key))
    return key


class KeyStore:
    """The private keys, one JSON file in the data dir, mode 600."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / KEYS_FILE

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> CrossSigningKeys | None:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            return CrossSigningKeys.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            # Never echo the content: it is the private key.
            raise IdentityError(
                f"{self.path} is unreadable ({type(exc).__name__}); restore it from the backup "
                "or run `diabot identity reset`"
            ) from None

    def save(self, keys: CrossSigningKeys) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(keys.to_json(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to an existing tmp file
        tmp.replace(self.path)


@dataclass
class IdentityStatus:
    """What /keys/query says about the bot's own account, every signature checked."""

    master_key: str | None  # public, base64
    self_signing_key: str | None
    self_signing_valid: bool  # signed by the master key
    device_signed: bool  # current device signed by the self-signing key
    keys_held: bool  # our key file matches the account's master key
    devices_signed: dict[str, bool]

    @property
    def ok(self) -> bool:
        return bool(self.master_key and self.self_signing_valid and self.device_signed)

    @property
    def fingerprint(self) -> str:
        pub = self.master_key or ""
        return " ".join(pub[i : i + 4] for i in range(0, len(pub), 4))


def _single_key(obj: Json | None) -> str | None:
    keys = (obj or {}).get("keys") or {}
    if not isinstance(keys, dict) or len(keys) != 1:
        return None
    value = next(iter(keys.values()))
    return value if isinstance(value, str) else None


def verify_signature(obj: Json, user_id: str, public_key_b64: str) -> bool:
    """True if obj carries a valid Ed25519 signature by that key (key id = ed25519:<pub>)."""
    try:
        verify_key = decode_verify_key_base64("ed25519", public_key_b64, public_key_b64)
        signed = (obj.get("signatures") or {}).get(user_id) or {}
        if f"ed25519:{public_key_b64}" not in signed:
            return False
        verify_signed_json(copy.deepcopy(obj), user_id, verify_key)
        return True
    except (SignatureVerifyException, ValueError, TypeError, AttributeError):
        return False


class CrossSigning:
    """Sets up and checks the bot's identity. `api` is authenticated as the bot."""

    def __init__(self, api: Api, user_id: str, device_id: str, store: KeyStore, password: str | None = None):
        self.api = api
        self.user_id = user_id
        self.device_id = device_id
        self.store = store
        self.password = password

    # ---- reading -------------------------------------------------------------

    async def query(self) -> Json:
        status, body = await self.api.request(
            "POST", "/_matrix/client/v3/keys/query", {"device_keys": {self.user_id: []}}
        )
        if status != 200:
            raise IdentityError(f"/keys/query failed with HTTP {status}: {body.get('errcode')}")
        return body

    async def status(self) -> IdentityStatus:
        body = await self.query()
        master = (body.get("master_keys") or {}).get(self.user_id)
        ssk = (body.get("self_signing_keys") or {}).get(self.user_id)
        master_pub = _single_key(master)
        ssk_pub = _single_key(ssk)
        ssk_valid = bool(master_pub and ssk_pub and ssk and verify_signature(ssk, self.user_id, master_pub))
        devices = (body.get("device_keys") or {}).get(self.user_id) or {}
        signed = {
            device_id: bool(ssk_valid and ssk_pub and verify_signature(dev, self.user_id, ssk_pub))
            for device_id, dev in devices.items()
        }
        held = self.store.load()
        return IdentityStatus(
            master_key=master_pub,
            self_signing_key=ssk_pub,
            self_signing_valid=ssk_valid,
            device_signed=signed.get(self.device_id, False),
            keys_held=bool(held and master_pub == held.public("master")),
            devices_signed=signed,
        )

    # ---- setting up ------------------------------------------------------------

    async def ensure(self) -> IdentityStatus:
        """Called at every start, before anything is sent. Idempotent."""
        status = await self.status()
        if status.ok:
            if not status.keys_held:
                log.info("device is cross-signed by keys this bot does not hold (a verified device's token)")
            return status
        keys = self.store.load()
        if status.master_key is None:
            if keys is None:
                keys = CrossSigningKeys.generate()
                self.store.save(keys)  # before the upload: we must never lose keys the server has
            await self._upload_keys(keys, replacing=False)
            log.info("cross-signing keys uploaded", extra={"master_key": keys.public("master")})
        elif keys is None or keys.public("master") != status.master_key:
            what = "are not in the data dir" if keys is None else "in the data dir are not the account's"
            raise IdentityError(
                f"{self.user_id} has a cross-signing identity (master key {status.fingerprint}) whose private keys "
                f"{what} ({self.store.path}). Restore that file from the backup of the data dir, or run "
                "`diabot identity reset` to replace the identity (members' clients will show an identity warning); "
                "or configure matrix.access_token of a device that is already verified."
            )
        elif not status.self_signing_valid:
            await self._upload_keys(keys, replacing=True)
        await self.sign_devices(keys, [self.device_id])
        status = await self.status()
        if not status.ok:
            raise IdentityError(
                "the homeserver did not accept the bot's cross-signing: "
                f"master={bool(status.master_key)} self_signing_valid={status.self_signing_valid} "
                f"device_signed={status.device_signed}"
            )
        log.info("device is cross-signed", extra={"device_id": self.device_id, "master_key": status.master_key})
        return status

    async def reset(self) -> IdentityStatus:
        """New keys replace the old ones; every device the old keys had signed is signed again."""
        before = await self.status()
        to_sign = {self.device_id, *(d for d, ok in before.devices_signed.items() if ok)}
        keys = CrossSigningKeys.generate()
        previous = self.store.path.with_suffix(".previous.json")
        if self.store.exists():
            self.store.path.replace(previous)  # kept until the server has the new keys
        try:
            await self._upload_keys(keys, replacing=True)
        except BaseException:
            if previous.exists():
                previous.replace(self.store.path)
            raise
        self.store.save(keys)
        previous.unlink(missing_ok=True)
        await self.sign_devices(keys, sorted(to_sign))
        status = await self.status()
        if not status.ok:
            raise IdentityError("the new cross-signing keys were uploaded but the device is not signed")
        return status

    async def _upload_keys(self, keys: CrossSigningKeys, *, replacing: bool) -> None:
        body: Json = {
            "master_key": keys.key_object(self.user_id, "master"),
            "self_signing_key": keys.key_object(self.user_id, "self_signing"),
            "user_signing_key": keys.key_object(self.user_id, "user_signing"),
        }
        path = "/_matrix/client/v3/keys/device_signing/upload"
        status, answer = await self.api.request("POST", path, body)
        if status == 401 and "flows" in answer:
            auth = self._uia_auth(answer)
            status, answer = await self.api.request("POST", path, {**body, "auth": auth})
        if status != 200:
            raise IdentityError(
                f"uploading cross-signing keys failed with HTTP {status}: {answer.get('errcode')} "
                f"{answer.get('error', '')}".strip()
            )

    def _uia_auth(self, challenge: Json) -> Json:
        stages = {stage for flow in challenge.get("flows") or [] for stage in flow.get("stages") or []}
        session = challenge.get("session")
        if "m.login.password" in stages and self.password:
            return {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": self.password,
                "session": session,
            }
        if MAS_RESET_STAGE in stages or "m.login.password" not in stages:
            url = ((challenge.get("params") or {}).get(MAS_RESET_STAGE) or {}).get("url")
            raise IdentityError(MAS_ADVICE + (f" Approval page: {url}" if url else ""))
        raise IdentityError(
            "the homeserver asks for the bot's password to change its cross-signing keys, "
            "but no matrix.password is configured (DIABOT_MATRIX_PASSWORD)"
        )

    async def sign_devices(self, keys: CrossSigningKeys, device_ids: list[str]) -> None:
        body = await self.query()
        devices = (body.get("device_keys") or {}).get(self.user_id) or {}
        payload: Json = {}
        for device_id in device_ids:
            device = devices.get(device_id)
            if device is None:
                if device_id == self.device_id:
                    raise IdentityError(f"the bot's device {device_id} has no keys on the server yet")
                continue
            # Sign the server's copy; the server merges our signature into it.
            unsigned = {k: v for k, v in device.items() if k not in ("signatures", "unsigned")}
            signed = sign_json(unsigned, self.user_id, keys.self_signing)
            signed["signatures"] = {self.user_id: signed["signatures"][self.user_id]}
            payload[device_id] = signed
        if not payload:
            return
        status, answer = await self.api.request(
            "POST", "/_matrix/client/v3/keys/signatures/upload", {self.user_id: payload}
        )
        # Synapse answers 200 and lists what it rejected under "failures".
        failures = (answer.get("failures") or {}).get(self.user_id) or {}
        if status != 200 or failures:
            raise IdentityError(
                f"the homeserver rejected the device signature (HTTP {status}): "
                + ", ".join(f"{d}: {f.get('errcode')}" for d, f in failures.items())
            )


MAS_ADVICE = (
    "This homeserver delegates authentication (MAS): the bot cannot confirm its first cross-signing set-up or a "
    "reset with a password. Either approve a cross-signing reset for the bot's account in the browser and run "
    "`diabot identity reset` within the approval window, or log in once with Element as the bot, verify that "
    "session, and configure its access token as matrix.access_token (DIABOT_MATRIX_ACCESS_TOKEN)."
)


async def delegates_auth(homeserver: str, timeout_s: float = 5) -> bool | None:
    """True if the homeserver uses OAuth/MAS (MSC2965), None if it cannot be reached."""
    import aiohttp

    base = homeserver.rstrip("/")
    paths = (
        "/_matrix/client/v1/auth_metadata",
        "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata",
        "/_matrix/client/unstable/org.matrix.msc2965/auth_issuer",
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
            for path in paths:
                async with session.get(base + path) as resp:
                    if resp.status == 200:
                        return True
    except (aiohttp.ClientError, TimeoutError, OSError):
        return None
    return False
