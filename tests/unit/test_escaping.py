"""User text in the bot's markdown stays text: no links, headings, lists or
emphasis from a company name, a display name or a quoted argument."""

import html
import re
from pathlib import Path

import pytest

from diabot.formatting import Markdown, code_span, escape_md, notice_contents, render_html
from diabot.i18n import Catalog, placeholders

ROOT = Path(__file__).resolve().parents[2]
DIRS = [ROOT / "diabot" / "locales", *sorted(p for p in (ROOT / "plugins").glob("*/locales"))]

NASTY = [
    "[verify your membership](https://evil.example/login)",
    "Evil Corp\n# Heading",
    "Evil\u2028## heading after a Unicode line separator",
    "Evil\r\n===",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "2) item",
    "---",
    "***",
    "___",
    "= = =",
    "> quoted",
    "<https://evil.example/login>",
    "<b>bold</b>",
    "<img src=x onerror=alert(1)>",
    "`code`",
    "```fence```",
    "~~struck~~",
    "**bold** _em_ *em*",
    "| a | b |\n|---|---|\n| c | d |",
    "![img](https://evil.example/x.png)",
    "[x]: https://evil.example/ref",
    "\\[x\\](https://evil.example/escaped)",
    "&#91;x&#93;(https://evil.example/entities) &lt;b&gt;",
    "    indented code",
    "trailing hard break  \nnext",
    "https://evil.example/bare www.evil.example",
]
# Markup a rendered, escaped value must never produce.
MARKUP = re.compile(r"<(a|h[1-6]|li|ul|ol|code|pre|em|strong|del|s|table|blockquote|hr|img)\b")


def _text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize("value", NASTY)
def test_escaped_user_text_renders_as_exactly_that_text(value):
    for template in ("{v}", "Member: {v} (NL)"):
        rendered = render_html(template.format(v=escape_md(value)))
        assert not MARKUP.search(rendered), (value, rendered)
        # Nothing lost either: the text is the input with whitespace collapsed.
        assert _text_of(rendered) == template.format(v=" ".join(value.split())), rendered


def test_the_unescaped_values_would_be_markup():
    """The cases above are real: without escape_md they make links and headings."""
    assert '<a href="https://evil.example/login"' in render_html(NASTY[0])
    assert "<h1>" in render_html(NASTY[1])


def test_plain_names_stay_readable_in_the_plain_body():
    for name in ("Müller & Söhne GmbH", "Bakkerij De Grens", "J. de Vries (Emmen)", "A+B Logistik", "1a Metallbau"):
        assert escape_md(name) == name


def test_escaping_is_not_applied_twice():
    once = escape_md("[x](y)")
    assert escape_md(once) == once and isinstance(once, Markdown)


def test_catalog_escapes_placeholders_unless_the_bot_made_them():
    catalog = Catalog({"nl": {}, "de": {}, "en": {"k": "**{name}** — {n:d} rooms, {usage}", "lang": "Dutch"}})
    out = catalog.t("en", "k", name="[x](https://evil.example)\n# H", n=3, usage=code_span("!help <command>"))
    assert out == "**\\[x\\](https://evil.example) \\# H** — 3 rooms, `!help <command>`"
    rendered = render_html(out)
    assert "<a " not in rendered and "<h1>" not in rendered and "<code>!help &lt;command&gt;</code>" in rendered
    # Catalog output passed on as a value is the bot's own markdown: kept as is.
    nested = catalog.t("en", "k", name=catalog.t("en", "lang"), n=1, usage=Markdown("*x*"))
    assert nested.startswith("**Dutch**") and nested.endswith("*x*")


def test_every_catalog_text_with_hostile_values_makes_no_link_or_heading():
    """All real catalog texts: whatever a user puts into a placeholder, the
    notice has no link and no heading (the texts themselves have none)."""
    catalog = Catalog.from_dirs(DIRS)
    hostile = "[verify your membership](https://evil.example/login)\n# Heading"
    checked = 0
    for lang, texts in catalog.texts.items():
        for key, text in texts.items():
            names = placeholders(text) - {"p", "count"}
            if not names:
                continue
            params: dict[str, object] = {n: hostile for n in names}
            if "count" in placeholders(text):
                params["count"] = 2  # a number: it chooses the plural form
            for content in notice_contents(catalog.t(lang, key, **params)):
                formatted = content.get("formatted_body", "")
                assert "<a " not in formatted and not re.search(r"<h[1-6]", formatted), (lang, key, formatted)
                assert "https://evil.example/login" in content["body"]  # shown, as text
            checked += 1
    assert checked > 30


def test_code_span_holds_backticks():
    span = code_span("a `b` c")
    assert render_html(span) == "<p><code>a `b` c</code></p>"
