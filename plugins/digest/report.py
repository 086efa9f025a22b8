"""The working document from the report providers' rows: totals per theme,
resource type and side of the border, the gaps, Markdown (nl + de) and CSV.

Names appear only as the providers gave them in `named` (members who agreed
to be listed); everyone else is in the counts only."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field

from diabot.i18n import Catalog
from diabot.insights import ReportRow

SIDES = ("nl", "de", None)


@dataclass
class Cell:
    count: int = 0
    named: set[str] = field(default_factory=set)


@dataclass
class Report:
    """rows summed by (theme, resource, side, kind)."""

    cells: dict[tuple[str, str | None, str | None, str], Cell]

    @classmethod
    def of(cls, rows: list[ReportRow]) -> Report:
        cells: dict[tuple[str, str | None, str | None, str], Cell] = defaultdict(Cell)
        for row in rows:
            cell = cells[(row.theme, row.resource, row.side, row.kind)]
            cell.count += row.count
            cell.named.update(row.named)
        return cls(dict(cells))

    def total(self, kind: str, theme: str | None = None, resource: str | None = None, side: str | None = None) -> int:
        return sum(
            c.count
            for (t, r, s, k), c in self.cells.items()
            if k == kind
            and (theme is None or t == theme)
            and (resource is None or r == resource)
            and (side is None or s == side)
        )

    def themes(self) -> list[str]:
        return sorted({t for t, _, _, _ in self.cells})

    def pairs(self) -> list[tuple[str, str]]:
        """(theme, resource) with seeks or offers, sorted."""
        return sorted({(t, r) for t, r, _, k in self.cells if k in ("seek", "offer") and r is not None})

    def gaps(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(needs without any offer, offers nobody seeks), per theme and resource type."""
        needs = [(t, r) for t, r in self.pairs() if self.total("seek", t, r) and not self.total("offer", t, r)]
        unsought = [(t, r) for t, r in self.pairs() if self.total("offer", t, r) and not self.total("seek", t, r)]
        return needs, unsought

    def named(self, kind: str, theme: str, resource: str | None = None) -> list[str]:
        names: set[str] = set()
        for (t, r, _, k), c in self.cells.items():
            if k == kind and t == theme and (resource is None or r == resource):
                names |= c.named
        return sorted(names)


def report_csv(report: Report) -> str:
    """One line per (theme, resource, side, kind), then the gaps as kinds of their own."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["theme", "resource", "side", "kind", "count", "listed_names"])
    for (theme, resource, side, kind), cell in sorted(
        report.cells.items(), key=lambda item: tuple(str(x or "") for x in item[0])
    ):
        writer.writerow([theme, resource or "", side or "", kind, cell.count, "; ".join(sorted(cell.named))])
    needs, unsought = report.gaps()
    for theme, resource in needs:
        writer.writerow([theme, resource, "", "gap_need_without_offer", report.total("seek", theme, resource), ""])
    for theme, resource in unsought:
        writer.writerow([theme, resource, "", "gap_offer_not_sought", report.total("offer", theme, resource), ""])
    return out.getvalue()


def _cell(text: str) -> str:
    """A table cell: a company name may hold a "|" or a line break."""
    return text.replace("|", "\\|").replace("\n", " ")


def _both(i18n: Catalog, key: str, **params: object) -> str:
    """A heading in Dutch and German: the working document is for both sides."""
    return f"{i18n.t('nl', key, **params)} / {i18n.t('de', key, **params)}"


def report_markdown(i18n: Catalog, report: Report, title_theme: str, when: str) -> str:
    lines = [f"# {_both(i18n, 'digest.report.title', theme=title_theme)}", "", when, ""]
    lines += [f"## {_both(i18n, 'digest.report.supply')}", ""]
    head = "| theme | resource | seek NL | seek DE | offer NL | offer DE | listed |"
    lines += [head, "|---|---|---:|---:|---:|---:|---|"]
    for theme, resource in report.pairs():
        listed = sorted(set(report.named("seek", theme, resource)) | set(report.named("offer", theme, resource)))
        counts = [report.total(k, theme, resource, s) for k in ("seek", "offer") for s in ("nl", "de")]
        lines.append(f"| {theme} | {resource} | " + " | ".join(map(str, counts)) + f" | {_cell(', '.join(listed))} |")
    if not report.pairs():
        lines.append("| – | – | 0 | 0 | 0 | 0 | |")
    lines += ["", f"## {_both(i18n, 'digest.report.gaps')}", ""]
    needs, unsought = report.gaps()
    lines.append(f"**{_both(i18n, 'digest.report.gap_needs')}**")
    lines += [f"- {t}: {r} ({report.total('seek', t, r)})" for t, r in needs] or ["- –"]
    lines += ["", f"**{_both(i18n, 'digest.report.gap_offers')}**"]
    lines += [f"- {t}: {r} ({report.total('offer', t, r)})" for t, r in unsought] or ["- –"]
    lines += ["", f"## {_both(i18n, 'digest.report.results')}", ""]
    lines += ["| theme | matches | introductions | active members | listed members |", "|---|---:|---:|---:|---|"]
    for theme in report.themes():
        counts = [report.total(k, theme) for k in ("match", "introduction", "active_member")]
        names = _cell(", ".join(report.named("active_member", theme)))
        lines.append(f"| {theme} | " + " | ".join(map(str, counts)) + f" | {names} |")
    lines += ["", _both(i18n, "digest.report.privacy")]
    return "\n".join(lines) + "\n"
