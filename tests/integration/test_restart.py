"""Exactly once across crashes, and the same device after a restart."""

import asyncio
import json
import time
from collections import Counter

import pytest

from .helpers import room_with_bot

pytestmark = pytest.mark.integration


def reply_counts(user, bot_id, room):
    counts = Counter()
    for e in user.from_sender(bot_id, room):
        target = e.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        if target:
            counts[target] += 1
    return counts


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_sigkill_while_commands_arrive_answers_each_exactly_once(make_bot, users, encrypted):
    bot = make_bot().start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id, encrypted=encrypted)
    sent: list[str] = []

    async def burst(n):
        for _ in range(n):
            sent.append(await anna.send(room, "!ping"))
            await asyncio.sleep(0.05)

    await burst(8)
    bot.kill()  # mid-stream: some handled, some maybe handled-but-unsent, some unseen
    await burst(8)  # sent while the bot is down
    bot.start()
    await burst(4)
    await anna.wait_for_events(bot.user_id, room, count=len(sent), timeout=60)
    # Let any duplicate arrive before judging.
    marker = await anna.send(room, "!ping")
    await anna.reply_to(marker, bot.user_id, room)
    counts = reply_counts(anna, bot.user_id, room)
    assert {e: counts[e] for e in sent} == {e: 1 for e in sent}


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_crash_after_handling_before_token_save_answers_once(make_bot, users, encrypted):
    """The narrow window: effects committed (maybe sent), sync token not yet
    saved. The restart replays the batch; nothing may be answered twice."""
    bot = make_bot().start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id, encrypted=encrypted)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room, timeout=30)
    bot.arm_failpoint("crash-before-token-save")
    sent = [await anna.send(room, "!ping") for _ in range(5)]
    for _ in range(100):
        if bot.proc.poll() is not None:
            break
        await asyncio.sleep(0.1)
    assert bot.proc.returncode == 137, "the failpoint did not fire"
    bot.start()
    sent += [await anna.send(room, "!ping") for _ in range(2)]
    await anna.wait_for_events(bot.user_id, room, count=len(sent) + 1, timeout=60)
    marker = await anna.send(room, "!ping")
    await anna.reply_to(marker, bot.user_id, room)
    counts = reply_counts(anna, bot.user_id, room)
    assert {e: counts[e] for e in sent} == {e: 1 for e in sent}


async def test_restart_keeps_device_and_decrypts(make_bot, users):
    bot = make_bot().start()
    creds_path = bot.workdir / "data" / "credentials.json"
    device = json.loads(creds_path.read_text())["device_id"]
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id, encrypted=True)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room, timeout=30)
    assert bot.stop() == 0  # clean SIGTERM shutdown
    bot.start()
    assert json.loads(creds_path.read_text())["device_id"] == device
    assert "logged in with a new device" not in bot.log_text().split("restored device")[-1]
    event_id = await anna.send(room, "!ping")
    reply = await anna.reply_to(event_id, bot.user_id, room, timeout=30)
    assert reply["content"]["body"] == "Pong!"


@pytest.mark.parametrize("moment", ["mid-query", "mid-handler", "long-poll"])
async def test_sigterm_while_busy_is_a_clean_shutdown(make_bot, users, moment):
    """SIGTERM while a handler waits for a slow query or sleeps half-way through its
    transaction, or while the sync long-polls: the sync task is cancelled and awaited
    before the database and the client close, so nothing logs an error (the pool logs
    a CancelledError when its connection is reset after the database closed) and the
    bot exits 0 within 10 s."""
    bot = make_bot(extra={"plugins": {"core": {}, "roomtest": {}}, "matrix": {"sync_timeout_ms": 30000}}).start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
    if moment == "mid-query":
        # A few seconds of SQLite work: cancelled, the handler's rollback waits for it to end.
        await anna.send(room, "roomtest query 10000000")  # tests/support/roomtest
        await anna.wait_until(lambda: "roomtest handler is querying" in bot.log_text(), 30)
    elif moment == "mid-handler":
        await anna.send(room, "roomtest slow 60")  # tests/support/roomtest: sleeps in its handler
        await anna.wait_until(lambda: "roomtest handler is sleeping" in bot.log_text(), 30)
    else:
        await asyncio.sleep(2)  # the answer is sent; the next sync waits up to 30 s for news
    started = time.monotonic()
    assert bot.stop() == 0, bot.log_tail(20)
    assert time.monotonic() - started < 10
    log = bot.log_text()
    for sign in ('"level": "error"', '"level": "critical"', "Traceback", "CancelledError"):
        assert sign not in log, bot.log_tail(20)


async def test_old_commands_beyond_max_age_are_not_answered(make_bot, users):
    bot = make_bot(extra={"bot": {"max_event_age_s": 3, "default_language": "en"}}).start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    bot.kill()
    stale = await anna.send(room, "!ping")
    await asyncio.sleep(4)  # older than max_event_age_s when the bot is back
    bot.start()
    fresh = await anna.send(room, "!ping")
    await anna.reply_to(fresh, bot.user_id, room)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
    assert reply_counts(anna, bot.user_id, room)[stale] == 0


async def test_homeserver_outage_resumes_and_drops_nothing(make_bot, users, synapse):
    bot = make_bot().start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
    synapse.stop()
    await asyncio.sleep(3)
    synapse.start()
    event_id = await anna.send(room, "!ping")
    reply = await anna.reply_to(event_id, bot.user_id, room, timeout=30)
    assert reply["content"]["body"] == "Pong!"
    assert bot.proc.poll() is None


async def test_gap_longer_than_the_timeline_is_fetched(make_bot, users):
    """More commands arrive while the bot is down than one sync returns
    (limited timeline): the gap is filled with /messages, each answered once."""
    # 23 commands from one person exceed the default per-user limit (20/minute): not what this test is about.
    bot = make_bot(
        extra={"matrix": {"sync_timeline_limit": 5}, "bot": {"rate_limits": {"commands": "100/minute"}}}
    ).start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
    bot.kill()
    sent = [await anna.send(room, "!ping") for _ in range(23)]
    bot.start()
    await anna.wait_for_events(bot.user_id, room, count=len(sent) + 1, timeout=90)
    marker = await anna.send(room, "!ping")
    await anna.reply_to(marker, bot.user_id, room)
    counts = reply_counts(anna, bot.user_id, room)
    assert {e: counts[e] for e in sent} == {e: 1 for e in sent}
    assert "backfilled a timeline gap" in bot.log_text()


async def test_rate_limited_bot_drops_nothing(make_bot, users, synapse, accounts):
    """Synapse answers M_LIMIT_EXCEEDED with a retry time; the bot waits it
    out and every reply still arrives, once."""
    bot = make_bot().start()
    status, body = synapse.request(
        "POST",
        f"/_synapse/admin/v1/users/{accounts['bot']['user_id']}/override_ratelimit",
        {"messages_per_second": 1, "burst_count": 2},
        token=synapse.admin_token,
    )
    assert status == 200, body
    try:
        anna = await users("anna")
        room = await room_with_bot(anna, bot.user_id)
        sent = [await anna.send(room, "!ping") for _ in range(10)]
        await anna.wait_for_events(bot.user_id, room, count=len(sent), timeout=60)
        counts = reply_counts(anna, bot.user_id, room)
        assert {e: counts[e] for e in sent} == {e: 1 for e in sent}
        assert "Got 429 response" in bot.log_text()  # the limit really was hit and waited out
    finally:
        synapse.request(
            "DELETE",
            f"/_synapse/admin/v1/users/{accounts['bot']['user_id']}/override_ratelimit",
            token=synapse.admin_token,
        )
