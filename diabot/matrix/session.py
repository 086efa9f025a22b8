"""Login: a password login once, then the same device from the data dir;
the device is cross-signed before anything is sent."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, KeysUploadResponse, LoginResponse, WhoamiResponse

from ..config import MatrixSettings
from .http import HttpApi
from .identity import CrossSigning, KeyStore

log = logging.getLogger(__name__)


class MatrixSession:
    """Owns the nio client; the other parts of the edge reach it through `nio`."""

    def __init__(self, settings: MatrixSettings, data_dir: Path):
        self.settings = settings
        self.data_dir = data_dir
        self.user_id = settings.user_id
        self._client: AsyncClient | None = None

    @property
    def logged_in(self) -> bool:
        return self._client is not None

    @property
    def nio(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("the Matrix client is not logged in yet")
        return self._client

    @property
    def _credentials_path(self) -> Path:
        return self.data_dir / "credentials.json"

    async def login(self) -> None:
        store = self.data_dir / "crypto"
        store.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=True,
            # nio would save the token before our handlers run; the sync loop saves it after.
            store_sync_tokens=False,
            max_timeout_retry_wait_time=self.settings.max_retry_wait_s,
            backoff_factor=0.25,
            request_timeout=self.settings.sync_timeout_ms / 1000 + 30,
            **({"pickle_key": self.settings.pickle_key.get_secret_value()} if self.settings.pickle_key else {}),
        )
        creds = self._load_credentials()
        if creds is None and self.settings.access_token is not None:
            creds = await self._credentials_from_token(self.settings.access_token.get_secret_value())
        client = AsyncClient(self.settings.homeserver, self.user_id, store_path=str(store), config=config)
        if creds is None:
            if self.settings.password is None:
                raise RuntimeError("no stored credentials and no password configured")
            resp = await client.login(self.settings.password.get_secret_value(), device_name=self.settings.device_name)
            if not isinstance(resp, LoginResponse):
                await client.close()
                raise RuntimeError(f"login failed: {getattr(resp, 'message', resp)}")
            creds = {"user_id": resp.user_id, "device_id": resp.device_id, "access_token": resp.access_token}
            self._save_credentials(creds)
            log.info("logged in with a new device", extra={"device_id": resp.device_id})
        else:
            client.restore_login(creds["user_id"], creds["device_id"], creds["access_token"])
            log.info("restored device", extra={"device_id": creds["device_id"]})
        self.user_id = creds["user_id"]
        self._client = client
        if self.settings.cross_signing:
            await self._ensure_identity(creds)

    async def _ensure_identity(self, creds: dict[str, str]) -> None:
        """Cross-sign this device before anything is sent: a strict client that
        failed an event as UNSIGNED_SENDER_DEVICE never retries it."""
        if self.nio.should_upload_keys:
            resp = await self.nio.keys_upload()  # the device keys must be on the server to be signed
            if not isinstance(resp, KeysUploadResponse):
                raise RuntimeError(f"uploading the device keys failed: {getattr(resp, 'message', resp)}")
        password = self.settings.password.get_secret_value() if self.settings.password else None
        async with HttpApi(self.settings.homeserver, creds["access_token"]) as api:
            await CrossSigning(api, creds["user_id"], creds["device_id"], KeyStore(self.data_dir), password).ensure()

    async def _credentials_from_token(self, token: str) -> dict[str, str]:
        probe = AsyncClient(self.settings.homeserver, self.user_id, config=AsyncClientConfig(encryption_enabled=False))
        probe.access_token = token
        resp = await probe.whoami()
        await probe.close()
        if not isinstance(resp, WhoamiResponse) or not resp.device_id:
            raise RuntimeError("the configured access token is not valid")
        creds = {"user_id": resp.user_id, "device_id": resp.device_id, "access_token": token}
        self._save_credentials(creds)
        return creds

    def _load_credentials(self) -> dict[str, str] | None:
        try:
            return json.loads(self._credentials_path.read_text())
        except (OSError, ValueError):
            return None

    def _save_credentials(self, creds: dict[str, str]) -> None:
        tmp = self._credentials_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(creds, fh)
        tmp.replace(self._credentials_path)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
