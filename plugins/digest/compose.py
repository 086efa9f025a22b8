"""The digest's text: the providers' lines under short headings, in the reader's language."""

from __future__ import annotations

from diabot.i18n import Catalog
from diabot.insights import DigestSection


def heading(i18n: Catalog, lang: str, name: str) -> str:
    key = f"digest.section.{name}"
    return i18n.t(lang, key) if i18n.has(key) else name


def digest_markdown(i18n: Catalog, lang: str, title: str, sections: list[DigestSection]) -> str:
    """One message; "" when no section has a line (then nothing is sent)."""
    parts = [f"**{title}**"]
    for section in sections:
        lines = [line if line.lstrip().startswith(("-", "*")) else f"- {line}" for line in section.lines if line]
        if lines:
            parts.append(f"**{heading(i18n, lang, section.name)}**\n" + "\n".join(lines))
    if len(parts) == 1:
        return ""
    parts.append(i18n.t(lang, "digest.footer"))
    return "\n\n".join(parts)
