"""One malformed event must not silence the bot (real Synapse, raw events as
an independent client would send them)."""

import pytest

from .helpers import room_with_bot

pytestmark = pytest.mark.integration

POISON = [
    ("m.room.message", {"msgtype": "m.text", "body": "!ping", "m.relates_to": "garbage"}),
    ("m.room.message", {"msgtype": "m.text", "body": "!ping", "m.relates_to": ["a", 1]}),
    (
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "* !ping",
            "m.new_content": "x",
            "m.relates_to": {"rel_type": "m.replace", "event_id": 5},
        },
    ),
    ("m.room.message", {"msgtype": "m.text", "body": "!ping", "format": 3, "formatted_body": ["x"]}),
    ("m.reaction", {"m.relates_to": "garbage"}),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": ["$x"], "key": 7}}),
    (
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "!ping",
            "m.relates_to": {"m.in_reply_to": "not a dict", "rel_type": "m.thread", "event_id": {}},
        },
    ),
]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_malformed_events_do_not_stop_the_bot(make_bot, users, encrypted):
    bot = make_bot().start()
    anna = await users("anna")
    poisoned = await room_with_bot(anna, bot.user_id, encrypted=encrypted)
    other = await room_with_bot(anna, bot.user_id, encrypted=encrypted)
    poison_ids = [await anna.send_event(poisoned, etype, content) for etype, content in POISON]
    after = await anna.send(poisoned, "!ping")
    elsewhere = await anna.send(other, "!ping")
    # The batch went through: the command after the poison and the one in another room are answered.
    assert (await anna.reply_to(after, bot.user_id, poisoned, timeout=30))["content"]["body"] == "Pong!"
    assert (await anna.reply_to(elsewhere, bot.user_id, other, timeout=30))["content"]["body"] == "Pong!"
    # A "!ping" with a garbage relation is still a plain command: answered, exactly once.
    answered = [
        e
        for e in anna.from_sender(bot.user_id, poisoned)
        if e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == poison_ids[0]
    ]
    assert len(answered) == 1
    assert bot.health()[0] == 200
    bot.stop()  # a restart does not replay or choke on them either
    bot.start()
    marker = await anna.send(poisoned, "!ping")
    assert (await anna.reply_to(marker, bot.user_id, poisoned, timeout=30))["content"]["body"] == "Pong!"
    assert "handling a sync batch failed" not in bot.log_text()


async def test_health_turns_unhealthy_while_the_loop_is_stuck_and_recovers(make_bot, users, tmp_path):
    """The database goes away under the bot (a real PostgreSQL of this test's
    own, stopped): the batch cannot be stored, /health says so within 30 s;
    when the database is back, the command is answered, once."""
    import asyncio
    import time

    from devtools.ports import free_port
    from devtools.postgres import PostgresServer

    pg = PostgresServer(tmp_path / "pg", port=free_port()).start()
    try:
        bot = make_bot(extra={"database": {"url": pg.create_database("stuck")}}).start()
        anna = await users("anna")
        room = await room_with_bot(anna, bot.user_id)
        await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
        assert bot.health()[0] == 200

        pg.stop()
        stuck_at = time.monotonic()
        waiting = await anna.send(room, "!ping")
        # The database check fails at once; the sync loop itself is reported stuck within 30 s.
        while (health := bot.health())[1].get("sync", {}).get("ok", True):
            assert time.monotonic() - stuck_at < 30, f"sync still reported fine after 30 s: {health}"
            await asyncio.sleep(0.5)
        status, body = bot.health()
        assert status == 503 and body["database"] == "unreachable", body
        assert body["sync"]["failing_for_s"] >= 15, body

        pg.start()
        reply = await anna.reply_to(waiting, bot.user_id, room, timeout=60)
        assert reply["content"]["body"] == "Pong!"
        for _ in range(60):
            if bot.health()[0] == 200:
                break
            await asyncio.sleep(0.5)
        assert bot.health()[0] == 200
        await asyncio.sleep(2)
        answers = [
            e
            for e in anna.from_sender(bot.user_id, room)
            if e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == waiting
        ]
        assert len(answers) == 1
        assert bot.proc.poll() is None  # it never died
    finally:
        pg.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_sigterm_is_a_clean_shutdown(make_bot, users, request, backend):
    import time
    import uuid

    extra = {}
    if backend == "postgresql":
        extra["database"] = {"url": request.getfixturevalue("postgres").create_database("stop_" + uuid.uuid4().hex[:8])}
    bot = make_bot(extra=extra).start()
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
    t0 = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - t0 < 10
    log = bot.log_text()
    assert '"level": "error"' not in log and "CancelledError" not in log, bot.log_tail(10)
