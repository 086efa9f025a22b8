"""Tallying a poll with 700 voters: from the homeserver's `/relations` (as after
a long downtime, or a database that lacks responses) and from the database.

A throwaway Synapse; 700 voters join a plain room and answer the bot's poll
(100 change their vote, 10 name an answer the poll does not have: 810
responses). Measured in the same run, each `--n` times (median, p95):

- baseline: every `/relations` page fetched and JSON-decoded, nothing else (same aiohttp session as nio's);
- `Rooms.fetch_relations`: the bot's edge (nio's HTTP session, events converted);
- rebuild + tally: the polls plugin's rebuild into an empty table, then the count;
- tally from the database: the responses read back and counted (baseline: the bare SELECT);
- `tally()` alone over the responses in memory.

    .venv/bin/python bench/polls.py [--voters 700] [--n 9]

Encrypted rooms are not measured here (700 E2EE clients): decrypting adds a
megolm decryption per response at the edge.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
from nio import RoomPreset
from sqlalchemy import delete, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.ports import free_port  # noqa: E402
from devtools.synapse import SynapseServer  # noqa: E402
from diabot.config import MatrixSettings  # noqa: E402
from diabot.matrix.rooms import Rooms  # noqa: E402
from diabot.matrix.session import MatrixSession  # noqa: E402
from diabot.sending import POLL_START, poll_content  # noqa: E402
from diabot.storage.models import utcnow  # noqa: E402
from diabot.testing import TestBot  # noqa: E402
from plugins.polls.models import Poll, PollResponse  # noqa: E402
from plugins.polls.tally import Response, tally  # noqa: E402

RESPONSE = "org.matrix.msc3381.poll.response"
ANSWERS = ["Emmen", "Meppen", "Online", "Later"]


Case = tuple[Callable[[], Awaitable[object]], Callable[[], Awaitable[None]] | None]


async def interleaved(n: int, cases: dict[str, Case]) -> dict[str, list[float]]:
    """Each case once per round, round after round, after one warm-up round that is not counted:
    a homeserver's caches warming up or a neighbour's load then falls on every case alike."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(n + 1):
        for name, (work, before) in cases.items():
            if before is not None:
                await before()
            t0 = time.perf_counter()
            await work()
            if round_:
                times[name].append((time.perf_counter() - t0) * 1000)
    return times


async def make_voters(http: aiohttp.ClientSession, synapse: SynapseServer, count: int) -> list[str]:
    """Users made and logged in through the admin API: no password hashing (bcrypt), so 700 take seconds."""
    admin = {"Authorization": f"Bearer {synapse.admin_token}"}
    run = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        user = f"@v{run}{i}:{synapse.server_name}"
        async with gate:
            path = f"{synapse.url}/_synapse/admin/v2/users/{quote(user)}"
            async with http.put(path, json={}, headers=admin) as resp:
                assert resp.status in (200, 201), await resp.text()
            async with http.post(f"{path.replace('/v2/', '/v1/')}/login", json={}, headers=admin) as resp:
                assert resp.status == 200, await resp.text()
                return (await resp.json())["access_token"]

    return await asyncio.gather(*(one(i) for i in range(count)))


async def vote_all(http: aiohttp.ClientSession, base: str, room: str, poll: str, tokens: list[str]) -> int:
    gate = asyncio.Semaphore(10)
    sent = 0

    async def one(i: int, token: str) -> None:
        nonlocal sent
        headers = {"Authorization": f"Bearer {token}"}
        choices = [[str(i % 4 + 1)]]
        if i % 7 == 0:
            choices.append([str((i + 1) % 4 + 1)])  # changes their vote
        if i % 70 == 1:
            choices.append(["9"])  # an answer the poll does not have
        async with gate:
            async with http.post(f"{base}/_matrix/client/v3/rooms/{quote(room)}/join", json={}, headers=headers) as r:
                assert r.status == 200, await r.text()
            for answers in choices:
                content = {
                    "m.relates_to": {"rel_type": "m.reference", "event_id": poll},
                    RESPONSE: {"answers": answers},
                }
                path = f"{base}/_matrix/client/v3/rooms/{quote(room)}/send/{RESPONSE}/{uuid.uuid4().hex}"
                async with http.put(path, json=content, headers=headers) as r:
                    assert r.status == 200, await r.text()
                sent += 1

    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    return sent


async def raw_relations(http: aiohttp.ClientSession, base: str, token: str, room: str, poll: str) -> int:
    """The baseline: every page, plain HTTP and JSON, nothing else."""
    path = f"{base}/_matrix/client/v1/rooms/{quote(room)}/relations/{quote(poll)}/m.reference"
    params = {"dir": "b", "limit": "1000"}
    count = 0
    while True:
        async with http.get(path, params=params, headers={"Authorization": f"Bearer {token}"}) as resp:
            page = await resp.json()
        count += len(page["chunk"])
        if not page.get("next_batch"):
            return count
        params["from"] = page["next_batch"]


def row(name: str, times: list[float], base: float) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(times)
    return f"| {name} | {median:.1f} | {p95:.1f} | {median / base:.2f} |"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, default=700)
    parser.add_argument("--n", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        synapse = SynapseServer(tmp / "synapse", port=free_port())
        synapse.start()
        try:
            await run(synapse, tmp, args.voters, args.n)
        finally:
            synapse.stop()


async def run(synapse: SynapseServer, tmp: Path, voters: int, n: int) -> None:
    account = synapse.register("pollbot", "pw-bench")
    settings = MatrixSettings(
        homeserver=synapse.url, user_id=account["user_id"], access_token=account["access_token"], cross_signing=False
    )
    session = MatrixSession(settings, tmp / "bot")
    (tmp / "bot").mkdir()
    await session.login()
    rooms = Rooms(session)
    client = session.nio
    async with aiohttp.ClientSession() as http:
        created = await client.room_create(name="poll bench", preset=RoomPreset.public_chat)
        room = created.room_id
        await client.sync(timeout=0, full_state=True)  # nio sends only into rooms it has synced
        sent = await client.room_send(room, POLL_START, poll_content("Where do we meet?", ANSWERS))
        poll_event = sent.event_id
        t0 = time.perf_counter()
        tokens = await make_voters(http, synapse, voters)
        responses = await vote_all(http, synapse.url, room, poll_event, tokens)
        setup_s = time.perf_counter() - t0

        token = account["access_token"]
        fetched = await raw_relations(http, synapse.url, token, room, poll_event)
        events = await rooms.fetch_relations(room, poll_event)
        assert fetched == responses == len(events), (fetched, responses, len(events))

        (tmp / "testbot").mkdir()
        bot = await TestBot.start(tmp / "testbot", plugins=["polls"], themes=False)
        try:
            bot.rooms.fetch_relations = rooms.fetch_relations  # the real edge behind the harness's rooms
            async with bot.db.transaction() as db:
                db.add(
                    Poll(
                        room_id=room,
                        creator=account["user_id"],
                        question="Where do we meet?",
                        answers=ANSWERS,
                        max_selections=1,
                        disclosed=True,
                        lang="en",
                        closes_at=utcnow().replace(year=utcnow().year + 1),
                        start_event_id=poll_event,
                        text_event_id="$none",
                    )
                )
            plugin = bot.plugin("polls")

            async def empty_table() -> None:
                async with bot.db.transaction() as db:
                    await db.execute(delete(PollResponse))

            async def rebuild_and_tally() -> object:
                async with bot.db.transaction() as db:
                    poll = await db.get(Poll, 1)
                    await plugin.votes.rebuild(db, poll)
                    return await plugin.store.tally(db, poll)

            async def tally_from_db() -> object:
                async with bot.db.sessions() as db:
                    return await plugin.store.tally(db, await db.get(Poll, 1))

            async def bare_select() -> object:
                async with bot.db.sessions() as db:
                    query = select(PollResponse.voter, PollResponse.answers, PollResponse.ts)
                    return (await db.execute(query.where(PollResponse.poll_id == 1))).all()

            nio_http = client.client_session
            assert nio_http is not None
            in_memory = [Response(e.sender, e.content[RESPONSE]["answers"], e.ts, e.event_id) for e in events]

            async def pure() -> object:
                return tally(in_memory, ["1", "2", "3", "4"], 1, None)

            network = await interleaved(
                n,
                {
                    "raw": (lambda: raw_relations(nio_http, synapse.url, token, room, poll_event), None),
                    "edge": (lambda: rooms.fetch_relations(room, poll_event), None),
                    "rebuild": (rebuild_and_tally, empty_table),
                },
            )
            outcome = await tally_from_db()
            local = await interleaved(
                n, {"select": (bare_select, None), "db": (tally_from_db, None), "pure": (pure, None)}
            )
            async with bot.db.sessions() as db:
                sqlite_version = await db.scalar(text("select sqlite_version()"))
        finally:
            await bot.stop()
    await session.close()

    base, db_base = statistics.median(network["raw"]), statistics.median(local["select"])
    print(
        f"{voters} voters, {responses} responses ({len(events)} via /relations); "
        f"set-up {setup_s:.0f} s; n={n}; SQLite {sqlite_version}; counted: {outcome.valid_voters} valid, "
        f"{len(outcome.choices) - outcome.valid_voters} spoiled"
    )
    print()
    print("| what | median ms | p95 ms | ratio vs its baseline |")
    print("|---|---|---|---|")
    print(row("baseline: /relations pages, plain aiohttp + JSON", network["raw"], base))
    print(row("Rooms.fetch_relations (edge: nio session, events converted)", network["edge"], base))
    print(row("rebuild into an empty table + tally (plugin)", network["rebuild"], base))
    print(row("baseline: SELECT of the responses", local["select"], db_base))
    print(row("tally from the database (plugin)", local["db"], db_base))
    print(row("tally() in memory only", local["pure"], db_base))


if __name__ == "__main__":
    asyncio.run(main())
