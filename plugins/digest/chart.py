"""The working document's chart: needs vs offers per theme and resource type,
split by side of the border. CPU work: call it in a worker thread
(`asyncio.to_thread`); matplotlib is imported here, on first use, so a bot
that never makes a report does not carry it (the import and a first render add about 75 MB RSS)."""

from __future__ import annotations

import io
from collections.abc import Mapping

from .report import Report

SERIES = (("seek", "nl", "#e8743b"), ("seek", "de", "#b8451a"), ("offer", "nl", "#4c8bd6"), ("offer", "de", "#1f4e8c"))


def render_png(report: Report, title: str, labels: Mapping[str, str]) -> tuple[bytes, tuple[int, int]]:
    """PNG bytes and (width, height) in pixels. `labels`: legend texts per "kind.side"."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must come before pyplot
    from matplotlib.figure import Figure  # the object API: no global pyplot state between threads
    from matplotlib.ticker import MaxNLocator

    pairs = report.pairs() or [("–", "–")]
    height_in = max(3.5, 0.55 * len(pairs) + 2.0)
    fig = Figure(figsize=(9, height_in), dpi=100)
    ax = fig.subplots()
    bar = 0.2
    for i, (kind, side, colour) in enumerate(SERIES):
        values = [report.total(kind, t, r, side) for t, r in pairs]
        positions = [y + (i - 1.5) * bar for y in range(len(pairs))]
        ax.barh(positions, values, height=bar, color=colour, label=labels.get(f"{kind}.{side}", f"{kind} {side}"))
    ax.set_yticks(range(len(pairs)), [f"{t} · {r}" for t, r in pairs])
    ax.invert_yaxis()
    ax.set_title(title)
    # Below the axes, in one row: inside it would cover the longest bars.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize="small", frameon=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 ticks
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    width, height = (round(v) for v in fig.get_size_inches() * fig.dpi)
    return out.getvalue(), (width, height)
