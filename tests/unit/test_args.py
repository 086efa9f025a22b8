"""Arguments without shlex: apostrophes, typographic quotes, rest, variadic,
custom parsers and the offloaded (date) ones."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from diabot.commands import Arg, Offloaded, Pending, Router, command, split_words
from diabot.errors import UsageError

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def slug(text: str) -> str:
    if not text.isalnum():
        raise UsageError("demo.bad_slug", value=text)
    return text


def shout(text: str, zone: ZoneInfo, now: datetime) -> str:
    if text == "no":
        raise UsageError("demo.no")
    return f"{text.upper()}@{zone}"


class Demo:
    @command("profile set", help="x", args=(Arg("field", choices=("company", "bedrijf")), Arg("value", rest=True)))
    async def profile_set(self, ctx, field, value): ...

    @command("alias", help="x", args=(Arg("name"), Arg("theme")))
    async def alias(self, ctx, name, theme): ...

    @command("poll", help="x", args=(Arg("question"), Arg("answers", variadic=True, at_least=2, at_most=4)))
    async def poll(self, ctx, question, answers): ...

    @command("tags", help="x", args=(Arg("tags", variadic=True, optional=True),))
    async def tags(self, ctx, tags): ...

    @command("slug", help="x", args=(Arg("slug", type=slug),))
    async def slug(self, ctx, slug): ...

    @command("late", help="x", args=(Arg("n", type=int), Arg("what", rest=True, type=Offloaded(shout))))
    async def late(self, ctx, n, what): ...


@pytest.fixture
def router():
    r = Router("!")
    r.add_plugin("demo", Demo())
    return r


def test_rest_keeps_apostrophes_and_quotes_verbatim(router):
    inv = router.parse("!profile set bedrijf Bakkerij 't Hoekje")
    assert inv.kwargs == {"field": "bedrijf", "value": "Bakkerij 't Hoekje"}
    inv = router.parse('!profile set company Café "De Zon" & zn\'s')
    assert inv.kwargs["value"] == 'Café "De Zon" & zn\'s'
    assert router.parse('!profile set company "Bakkerij \'t Hoekje"').kwargs["value"] == "Bakkerij 't Hoekje"
    assert router.parse("!profile set company “Zon & Zee”").kwargs["value"] == "Zon & Zee"
    assert router.parse('!profile set company He said "hi').kwargs["value"] == 'He said "hi'  # no quote check


def test_apostrophes_in_words_are_never_quotes(router):
    assert router.parse("!alias thema's energy").kwargs == {"name": "thema's", "theme": "energy"}
    assert router.parse("!alias 't Hoekje").kwargs == {"name": "'t", "theme": "Hoekje"}


@pytest.mark.parametrize(
    "text",
    [
        '!alias "Groot thema" energie',
        "!alias “Groot thema” energie",  # phones (nl/en)
        "!alias „Groot thema“ energie",  # phones (de)
        "!alias „Groot thema” energie",  # phones (nl)
    ],
)
def test_double_quotes_straight_and_typographic(router, text):
    assert router.parse(text).kwargs == {"name": "Groot thema", "theme": "energie"}


def test_split_words():
    assert split_words('a  "b c" „d e“ f\'s') == ["a", "b c", "d e", "f's"]
    assert split_words('""') == [""]
    with pytest.raises(UsageError) as err:
        split_words('a "b c')
    assert err.value.key == "core.error.quotes"


def test_variadic_with_counts(router):
    inv = router.parse('!poll "Wanneer borrelen?" "Di 16:00" Woensdag „Do 17 Uhr“')
    assert inv.kwargs == {"question": "Wanneer borrelen?", "answers": ["Di 16:00", "Woensdag", "Do 17 Uhr"]}
    for text, key in [
        ("!poll Vraag?", "core.error.missing_arg"),
        ("!poll Vraag? A", "core.error.too_few"),
        ("!poll Vraag? A B C D E", "core.error.too_many"),
        ('!poll Vraag? A "B', "core.error.quotes"),
    ]:
        with pytest.raises(UsageError) as err:
            router.parse(text)
        assert err.value.key == key, text
        assert err.value.params.get("count") in (None, 2, 4)
    assert router.parse("!tags").kwargs == {"tags": []}
    assert router.parse("!tags a b").kwargs == {"tags": ["a", "b"]}


def test_custom_parser_keeps_its_own_key(router):
    assert router.parse("!slug energy").kwargs == {"slug": "energy"}
    with pytest.raises(UsageError) as err:
        router.parse("!slug en-ergy")
    assert err.value.key == "demo.bad_slug" and err.value.params == {"value": "en-ergy"}
    assert err.value.spec.name == "slug"  # the error boundary adds the usage line


def test_rest_and_variadic_only_last():
    with pytest.raises(ValueError):

        @command("bad", help="x", args=(Arg("a", rest=True), Arg("b")))
        async def bad(self, ctx, a, b): ...


def test_usage_marks_rest_and_variadic(router):
    spec = router.parse('!poll q "a" b').command.spec
    assert router.usage(spec, "en") == "!poll <question> <answers…>"


async def test_offloaded_argument_is_parsed_by_complete(router):
    inv = router.parse("!late 3 hello world")
    assert inv.kwargs["n"] == 3 and inv.kwargs["what"] == Pending(inv.command.spec.args[1], "hello world")
    assert not inv.complete
    done = await router.complete(inv, ZONE, NOW)
    assert done.complete and done.kwargs == {"n": 3, "what": "HELLO WORLD@Europe/Amsterdam"}
    with pytest.raises(UsageError) as err:
        await router.complete(router.parse("!late 3 no"), ZONE, NOW)
    assert err.value.key == "demo.no" and err.value.spec.name == "late"
