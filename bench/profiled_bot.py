"""`python bench/profiled_bot.py -c CONFIG run`: diabot exactly as `python -m
diabot`, with timing hooks that the ping benchmark reads afterwards. Nothing
in diabot knows about them: they are wrappers installed here, by name, before
the bot starts (a missing name is skipped, so a refactor does not break the
bench, it only loses that stage).

For every `!ping` a JSON line goes to $DIABOT_BENCH_TRACE with perf_counter_ns
marks along the path sync response -> nio -> convert -> dispatch -> outbox ->
room_send, plus the SQL statements and commits of each stage (a SQLAlchemy
event listener on every Engine; the stage is a ContextVar, which SQLAlchemy
carries into its greenlets).
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

now = time.perf_counter_ns
OUT = open(os.environ["DIABOT_BENCH_TRACE"], "a", buffering=1)  # for the process's lifetime
STAGE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("bench_stage", default=None)
PING = "!ping"


class Batch:
    """The sync response being handled; becomes a ping record once a `!ping` is in it."""

    current: dict | None = None


by_txn: dict[str, dict] = {}
by_row: dict[int, dict] = {}


def _stage_counter(record: dict, name: str) -> dict:
    return record.setdefault("sql", {}).setdefault(name, {"statements": 0, "commits": 0, "sql_ns": 0, "text": []})


def install_sql_listeners() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        stage = STAGE.get()
        if stage is not None:
            stage["statements"] += 1
            stage["text"].append(" ".join(statement.split())[:90])
            conn.info["bench_t0"] = now()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        stage = STAGE.get()
        t0 = conn.info.pop("bench_t0", None)
        if stage is not None and t0 is not None:
            stage["sql_ns"] += now() - t0

    @event.listens_for(Engine, "commit")
    def _commit(conn):
        stage = STAGE.get()
        if stage is not None:
            stage["commits"] += 1
            stage["text"].append("COMMIT")


def wrap_async(owner, name: str, before=None, after=None) -> None:
    original = getattr(owner, name, None)
    if original is None:
        print(f"profiled_bot: {owner.__name__}.{name} not found; stage skipped", file=sys.stderr)
        return

    @functools.wraps(original)
    async def wrapper(*args, **kwargs):
        token = before(*args, **kwargs) if before else None
        try:
            result = await original(*args, **kwargs)
        finally:
            if after:
                after(token, *args, **kwargs)
        return result

    setattr(owner, name, wrapper)


def time_parts(owner, name: str, label: str) -> None:
    """Add the time spent in owner.name to the current stage's `parts`."""

    def before(*_a, **_k):
        return now() if STAGE.get() is not None else None

    def after(t0, *_a, **_k):
        stage = STAGE.get()
        if t0 is not None and stage is not None:
            parts = stage.setdefault("parts", {})
            parts[label] = parts.get(label, 0) + now() - t0

    wrap_async(owner, name, before, after)


def batch_owner() -> type:
    """The class whose `_handle_batch` handles one sync response (it moved once)."""
    try:
        from diabot.matrix.sync import SyncLoop

        return SyncLoop
    except ImportError:
        from diabot.matrix.client import MatrixClient

        return MatrixClient


def install_hooks() -> None:
    import nio
    from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

    from diabot.language import LanguageResolver

    time_parts(AsyncSession, "get", "session.get (HandledEvent lookup)")
    time_parts(AsyncSession, "commit", "session.commit (flush + COMMIT)")
    time_parts(AsyncSessionTransaction, "__aenter__", "session.begin()")
    time_parts(AsyncSessionTransaction, "__aexit__", "end of transaction() (flush: INSERTs, COMMIT)")
    time_parts(AsyncSession, "close", "session.close (connection back to the pool)")
    time_parts(AsyncSession, "scalar", "session.scalar")
    time_parts(LanguageResolver, "for_user", "language of the user")

    from diabot.dispatch import Dispatcher
    from diabot.matrix import client as matrix_client
    from diabot.outbox import Outbox
    from diabot.storage.db import Database

    # --- nio: HTTP response of a sync, its parsing, nio's own processing ---------------
    def crm_before(self, response_class=None, *args, **kwargs):
        response_class = response_class or kwargs.get("response_class")
        if response_class is nio.SyncResponse:
            Batch.current = {"http": now()}

    def crm_after(_token, self, response_class=None, *args, **kwargs):
        if (response_class or kwargs.get("response_class")) is nio.SyncResponse and Batch.current:
            Batch.current["parsed"] = now()

    wrap_async(nio.AsyncClient, "create_matrix_response", crm_before, crm_after)

    def rr_after(_token, self, response, *args, **kwargs):
        if isinstance(response, nio.SyncResponse) and Batch.current is not None:
            Batch.current["nio_done"] = now()

    wrap_async(nio.AsyncClient, "receive_response", None, rr_after)

    # --- diabot's sync loop: the batch, convert, the token save -------------------------
    def hb_before(*_a, **_k):
        if Batch.current is not None:
            Batch.current["batch_start"] = now()

    wrap_async(batch_owner(), "_handle_batch", hb_before)

    convert_module = importlib.import_module(batch_owner().__module__)
    convert_name = "safe_convert" if hasattr(convert_module, "safe_convert") else "convert"
    original_convert = getattr(convert_module, convert_name)

    def timed_convert(*args, **kwargs):
        t0 = now()
        result = original_convert(*args, **kwargs)
        if Batch.current is not None:
            Batch.current["convert_ns"] = Batch.current.get("convert_ns", 0) + now() - t0
        return result

    setattr(convert_module, convert_name, timed_convert)

    def sv_before(self, key, value):
        record = Batch.current
        if record is not None and record.get("ping"):
            record["token_save_start"] = now()
            return record, STAGE.set(_stage_counter(record, "sync token save"))
        return None

    def sv_after(token, self, key, value):
        if token is not None:
            record, stage = token
            STAGE.reset(stage)
            record["token_save_end"] = now()
            emit_if_complete(record)

    wrap_async(Database, "set_value", sv_before, sv_after)

    # --- dispatch ------------------------------------------------------------------------
    def d_before(self, event):
        record = Batch.current
        if record is None or getattr(event, "body", None) != PING:
            return None
        record["ping"] = True
        record["dispatch_start"] = now()
        return record, STAGE.set(_stage_counter(record, "dispatch"))

    def d_after(token, self, event):
        if token is not None:
            record, stage = token
            STAGE.reset(stage)
            record["dispatch_end"] = now()

    wrap_async(Dispatcher, "dispatch", d_before, d_after)
    time_parts(Dispatcher, "_run", "the command itself (parse, permission, handler)")

    # --- outbox hand-off and delivery ----------------------------------------------------
    original_notify = Outbox.notify

    def notify(self, rows=None):
        record = Batch.current
        if record is not None and record.get("ping") and rows:
            record["notify"] = now()
            for row in rows:
                by_txn[row.txn_id] = record
                by_row[row.id] = record
        return original_notify(self, rows)

    Outbox.notify = notify

    def deliver_before(self, rows):
        for row in rows:
            record = by_row.get(row.id)
            if record is not None:
                record.setdefault("outbox_start", now())

    wrap_async(Outbox, "_deliver", deliver_before)

    def sq_before(self, row_id, *a, **k):
        record = by_row.get(row_id)
        if record is not None:
            return STAGE.set(_stage_counter(record, "outbox: still queued?"))
        return None

    def sq_after(token, self, row_id, *a, **k):
        if token is not None:
            STAGE.reset(token)
            by_row[row_id]["still_queued_end"] = now()

    wrap_async(Outbox, "_still_queued", sq_before, sq_after)

    def send_before(self, room_id, event_type, content, txn_id):
        record = by_txn.get(txn_id)
        if record is not None:
            record["send_start"] = now()

    def send_after(_token, self, room_id, event_type, content, txn_id):
        record = by_txn.pop(txn_id, None)
        if record is not None:
            record["send_end"] = now()

    wrap_async(matrix_client.MatrixClient, "send", send_before, send_after)

    def mark_before(self, row_id, **kwargs):
        record = by_row.get(row_id)
        if record is not None:
            return STAGE.set(_stage_counter(record, "outbox: mark sent"))
        return None

    def mark_after(token, self, row_id, **kwargs):
        if token is not None:
            STAGE.reset(token)
            record = by_row.pop(row_id)
            record["mark_end"] = now()
            emit_if_complete(record)

    wrap_async(Outbox, "_mark", mark_before, mark_after)


def install_proposals() -> None:
    """$DIABOT_BENCH_PROPOSALS=1: the changes proposed for files the bench does
    not own (dispatch.py, outbox.py, storage/db.py), tried from outside so the
    bench can measure them against the bot as it is, in the same run:

    P1 outbox: no `still queued?` SELECT before sending a row that notify()
       handed over (a withdrawal in between is caught by `_mark`, which already
       redacts a message withdrawn while it was being sent).
    P2 dispatch: no HandledEvent SELECT first; the real change claims the
       event with INSERT .. ON CONFLICT DO NOTHING as the first statement (the
       INSERT is made anyway), here the bench only drops the SELECT (no
       replays happen in the bench).
    P3 sync token: one upsert instead of session.merge (SELECT + UPDATE).
    """
    from sqlalchemy.dialects.sqlite import insert
    from sqlalchemy.ext.asyncio import AsyncSession

    from diabot.outbox import Outbox
    from diabot.storage.db import Database
    from diabot.storage.models import HandledEvent, KeyValue

    fresh: set[int] = set()
    original_notify, original_still_queued = Outbox.notify, Outbox._still_queued

    def notify(self, rows=None):
        for row in rows or ():
            fresh.add(row.id)
        return original_notify(self, rows)

    async def still_queued(self, row_id: int) -> bool:
        if row_id in fresh:
            fresh.discard(row_id)
            return True
        return await original_still_queued(self, row_id)

    Outbox.notify, Outbox._still_queued = notify, still_queued

    original_get = AsyncSession.get

    async def get(self, entity, ident, *args, **kwargs):
        if entity is HandledEvent:
            return None
        return await original_get(self, entity, ident, *args, **kwargs)

    AsyncSession.get = get

    async def set_value(self, key: str, value: str) -> None:
        statement = insert(KeyValue).values(key=key, value=value)
        async with self.transaction() as session:
            await session.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    Database.set_value = set_value


def emit_if_complete(record: dict) -> None:
    """Written once both the token save (sync loop) and the mark (outbox) are done."""
    if "mark_end" in record and "token_save_end" in record and not record.get("written"):
        record["written"] = True
        OUT.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    install_sql_listeners()
    if os.environ.get("DIABOT_BENCH_PROPOSALS"):
        install_proposals()  # first: the timing hooks then wrap the proposed versions
    install_hooks()
    from diabot.cli import main

    sys.exit(main(sys.argv[1:]))
