"""How requests, knowledge and matches read in a reply (the reader's language). Authors are
named only where the caller says they may be (`named`): a listing never names anyone."""

from __future__ import annotations

from diabot.sending import Sender
from diabot.storage.models import aware

from .models import ExchangeItem, ExchangeMatch

ICONS = {"seek": "🔎", "offer": "🤝", "knowledge": "📚"}


def _quote(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def resource(sender: Sender, key: str | None) -> str:
    return sender.t(f"exchange.resource.{key}") if key else "—"


def date(sender: Sender, item: ExchangeItem) -> str:
    expires = aware(item.expires_at)
    return sender.services.i18n.date(sender.lang, expires) if expires is not None else "—"


def line(sender: Sender, item: ExchangeItem) -> str:
    parts = [f"{ICONS.get(item.kind, '•')} **#{item.id}** {_quote(item.text) or resource(sender, item.resource)}"]
    if item.kind != "knowledge" and item.resource:
        parts.append(f"({resource(sender, item.resource)})")
    if item.theme:
        parts.append(f"#{item.theme}")
    if item.url and item.url not in item.text:
        parts.append(item.url)
    if item.status not in ("open",):
        parts.append(f"[{sender.t(f'exchange.status.{item.status}')}]")
    return " ".join(parts)


def listing(sender: Sender, items: list[ExchangeItem], empty_key: str, **params: object) -> str:
    if not items:
        return sender.t(empty_key, **params)
    return "\n".join(line(sender, item) for item in items)


def detail(sender: Sender, item: ExchangeItem, *, named: bool) -> str:
    lines = [line(sender, item), sender.t(f"exchange.kind.{item.kind}")]
    if named and item.author:
        lines.append(sender.t("exchange.detail.author", author=item.author))
    if item.kind != "knowledge" and item.expires_at is not None:
        lines.append(sender.t("exchange.detail.expires", date=date(sender, item)))
    return "  \n".join(lines)


def match_line(sender: Sender, row: ExchangeMatch, theirs: ExchangeItem, why: str) -> str:
    state = sender.t(f"exchange.match_state.{row.state}")
    return sender.t("exchange.matches.line", id=row.id, text=_quote(theirs.text), why=why or "—", state=state)
