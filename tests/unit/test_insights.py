"""The insights registry: providers in registration order, empty ones left out,
a failing one does not stop the others; ReportRow refuses nonsense."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from diabot.insights import Insights, ReportRow

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


async def test_sections_in_registration_order_without_empty_ones():
    insights = Insights()

    async def events(session, user, since, lang):
        return [f"event for {user} in {lang}"]

    async def nothing(session, user, since, lang):
        return []

    async def broken(session, user, since, lang):
        raise RuntimeError("boom")

    async def polls(session, user, since, lang):
        assert since == SINCE
        return ["poll"]

    for name, provider in (("events", events), ("empty", nothing), ("broken", broken), ("polls", polls)):
        insights.register_digest(name, provider)
    sections = await insights.digest(None, "@a:x", SINCE, "de")  # type: ignore[arg-type]
    assert [(s.name, s.lines) for s in sections] == [("events", ["event for @a:x in de"]), ("polls", ["poll"])]
    with pytest.raises(ValueError, match="registered already"):
        insights.register_digest("events", events)


async def test_report_rows_of_every_provider_and_audience_union():
    insights = Insights()
    row = ReportRow(theme="energy", resource="knowledge", side="nl", kind="offer", count=2, named=("Bakkerij",))

    async def report(session, theme):
        return [row] if theme in (None, "energy") else []

    async def failing(session, theme):
        raise RuntimeError("boom")

    async def audience_a(session):
        return {"@a:x"}

    async def audience_b(session):
        return {"@b:x", "@a:x"}

    insights.register_report("exchange", report)
    insights.register_report("broken", failing)
    insights.register_audience("a", audience_a)
    insights.register_audience("b", audience_b)
    assert await insights.report(None, None) == [row]  # type: ignore[arg-type]
    assert await insights.report(None, "skills") == []  # type: ignore[arg-type]
    assert await insights.audience(None) == {"@a:x", "@b:x"}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [{"kind": "wish"}, {"side": "be"}, {"count": -1}],
)
def test_report_row_refuses_unknown_kinds_sides_and_negative_counts(fields):
    base = {"theme": "energy", "resource": None, "side": None, "kind": "seek", "count": 1}
    with pytest.raises(ValueError):
        ReportRow(**{**base, **fields})
