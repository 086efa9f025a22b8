"""User-interactive auth for cross-signing uploads (pure unit, fake API at the
HTTP edge): password where the server offers it; a clear explanation, never a
silent failure, on homeservers that delegate auth (MAS)."""

import pytest

from diabot.matrix.identity import CrossSigning, CrossSigningKeys, IdentityError, KeyStore


class FakeApi:
    def __init__(self, challenge):
        self.challenge = challenge
        self.calls = []

    async def request(self, method, path, body=None):
        self.calls.append((path, body))
        if path.endswith("/device_signing/upload"):
            if "auth" not in body:
                return 401, self.challenge
            return 200, {}
        return 200, {}


async def test_password_stage_is_answered_with_the_configured_password(tmp_path):
    api = FakeApi({"flows": [{"stages": ["m.login.password"]}], "session": "s1"})
    identity = CrossSigning(api, "@bot:x", "DEV", KeyStore(tmp_path), password="secret")
    await identity._upload_keys(CrossSigningKeys.generate(), replacing=True)
    auth = api.calls[-1][1]["auth"]
    assert auth == {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": "@bot:x"},
        "password": "secret",
        "session": "s1",
    }


async def test_delegated_auth_explains_what_to_do(tmp_path):
    challenge = {
        "flows": [{"stages": ["org.matrix.cross_signing_reset"]}],
        "session": "s2",
        "params": {"org.matrix.cross_signing_reset": {"url": "https://auth.example/account/reset"}},
    }
    identity = CrossSigning(FakeApi(challenge), "@bot:x", "DEV", KeyStore(tmp_path), password="secret")
    with pytest.raises(IdentityError) as err:
        await identity._upload_keys(CrossSigningKeys.generate(), replacing=True)
    text = str(err.value)
    assert "delegates authentication" in text and "https://auth.example/account/reset" in text
    assert "matrix.access_token" in text and "secret" not in text


async def test_no_password_configured_says_so(tmp_path):
    identity = CrossSigning(
        FakeApi({"flows": [{"stages": ["m.login.password"]}], "session": "s"}),
        "@bot:x",
        "DEV",
        KeyStore(tmp_path),
        password=None,
    )
    with pytest.raises(IdentityError, match=r"no matrix\.password"):
        await identity._upload_keys(CrossSigningKeys.generate(), replacing=True)


def test_keys_round_trip_and_file_mode(tmp_path):
    store = KeyStore(tmp_path)
    keys = CrossSigningKeys.generate()
    store.save(keys)
    assert (store.path.stat().st_mode & 0o777) == 0o600
    assert store.load().public("master") == keys.public("master")
    store.path.write_text("{not json")
    with pytest.raises(IdentityError) as err:
        store.load()
    assert "{not json" not in str(err.value)
