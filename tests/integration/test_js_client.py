"""The js-sdk test client (Element's SDK, strict mode) against the real Synapse.

These prove the harness in tests/support/js_user.py, and document the rule the
bot has to meet: a client that excludes insecure devices (MSC4153, Element
since April 2026) reads only devices their owner has cross-signed.
"""

import asyncio
import uuid

import pytest

from tests.support.js_user import JsUser
from tests.support.matrix_user import MatrixUser

from .helpers import wait_membership

pytestmark = pytest.mark.integration


@pytest.fixture
async def js_users(synapse, tmp_path):
    """Factory: a fresh user on a new, cross-signed js-sdk device."""
    started: list[JsUser] = []

    async def make(mode: str = "strict") -> JsUser:
        name = f"js{uuid.uuid4().hex[:8]}"
        password = f"pw-{name}"
        user_id = synapse.register(name, password)["user_id"]
        user = JsUser(synapse.url, user_id, password, mode=mode, log_path=tmp_path / f"{name}.log")
        started.append(user)
        return await user.start()

    yield make
    await asyncio.gather(*(user.close() for user in started))


@pytest.mark.parametrize("is_direct", [False, True], ids=["room", "dm"])
async def test_strict_clients_read_each_other(js_users, is_direct):
    alice, bob = await asyncio.gather(js_users(), js_users())
    for user in (alice, bob):
        assert user.info["cross_signing_ready"] and user.info["signed_by_owner"], user.info

    room = await alice.create_room(invite=[bob.user_id], is_direct=is_direct)
    await alice.wait_joined(room, bob.user_id)  # bob joins by himself
    assert [d["signed_by_owner"] for d in await alice.devices(bob.user_id)] == [True]

    to_bob = await alice.send(room, "hello bob")
    seen = await bob.wait_for_event(to_bob)
    assert (seen["encrypted"], seen["decrypted"], seen["failure"]) == (True, True, None)
    assert seen["content"]["body"] == "hello bob"
    assert seen["shield"]["colour"] == "NONE"

    answer = await bob.send(
        room,
        content={"msgtype": "m.notice", "body": "hello alice", "m.relates_to": {"m.in_reply_to": {"event_id": to_bob}}},
    )
    seen = await alice.reply_to(to_bob, bob.user_id)
    assert (seen["event_id"], seen["content"]["body"], seen["decrypted"]) == (answer, "hello alice", True)


async def test_strict_client_refuses_a_device_without_cross_signing(js_users, synapse, tmp_path):
    """A matrix-nio device (no cross-signing, like the bot before it got it): a
    strict client neither reads it nor shares its keys with it; a legacy client
    reads it under a red shield, so the message itself was fine."""
    strict, legacy = await asyncio.gather(js_users("strict"), js_users("legacy"))
    creds = synapse.register(f"nio{uuid.uuid4().hex[:8]}", "pw-nio")
    nio = await MatrixUser(synapse.url, creds, tmp_path / "nio-store").start()
    try:
        room = await strict.create_room(invite=[nio.user_id, legacy.user_id])
        for member in (nio.user_id, legacy.user_id):
            await strict.wait_joined(room, member)
            await wait_membership(nio, room, member)  # nio shares its key only with members it knows

        from_nio = await nio.send(room, "from nio")
        refused = await strict.wait_for_event(from_nio)
        assert (refused["decrypted"], refused["failure"]) == (False, "UNSIGNED_SENDER_DEVICE")
        read = await legacy.wait_for_event(from_nio)
        assert read["decrypted"] and read["content"]["body"] == "from nio"
        assert read["shield"] == {"colour": "RED", "reason": "UNSIGNED_DEVICE"}

        # The other way round: the strict client withholds its room key from nio.
        from_strict = await strict.send(room, "not for nio")
        assert (await legacy.wait_for_event(from_strict))["decrypted"]  # the key share is done by now
        await nio.wait_until(lambda: any(e.event_id == from_strict for e in nio._undecrypted), 20)
        assert not [e for e in nio.events if e.get("event_id") == from_strict]
    finally:
        await nio.close()
