import pytest

from diabot.commands import Arg, Invocation, Perm, Router, Unknown, command
from diabot.errors import UsageError


class Demo:
    @command("ping", help="x")
    async def ping(self, ctx): ...

    @command(
        "lang",
        nl=("taal",),
        de=("sprache",),
        help="x",
        args=(Arg("language", choices=("nl", "de", "en"), optional=True),),
    )
    async def lang(self, ctx, language): ...

    @command(
        "room create",
        nl=("kamer maak",),
        de=("raum erstellen",),
        help="x",
        perm=Perm.MODERATOR,
        args=(Arg("slug"), Arg("nl_name"), Arg("de_name")),
    )
    async def room_create(self, ctx, slug, nl_name, de_name): ...

    @command("room", help="x")
    async def room(self, ctx): ...

    @command("announce", help="x", args=(Arg("text", rest=True),))
    async def announce(self, ctx, text): ...

    @command("count", help="x", args=(Arg("n", type=int),))
    async def count(self, ctx, n): ...


@pytest.fixture
def router():
    r = Router("!")
    r.add_plugin("demo", Demo())
    return r


def test_not_a_command(router):
    assert router.parse("hello") is None
    assert router.parse("! ping") is None
    assert router.parse("!") is None


def test_simple_and_aliases(router):
    inv = router.parse("!ping")
    assert isinstance(inv, Invocation) and inv.command.spec.name == "ping" and inv.kwargs == {}
    for text in ("!taal de", "!sprache de", "!LANG de", "!lang DE"):
        inv = router.parse(text)
        assert inv.command.spec.name == "lang" and inv.kwargs == {"language": "de"}, text
    assert router.parse("!lang").kwargs == {"language": None}


def test_subcommand_longest_match_and_quotes(router):
    # Double quotes, straight or typographic; single quotes are apostrophes (see test_args.py).
    inv = router.parse('!room create energy "Energie transitie" „Energie Wende“')
    assert inv.command.spec.name == "room create"
    assert inv.kwargs == {"slug": "energy", "nl_name": "Energie transitie", "de_name": "Energie Wende"}
    assert router.parse("!raum erstellen a b c").command.spec.name == "room create"
    assert router.parse("!room").command.spec.name == "room"


def test_rest_argument_keeps_text(router):
    inv = router.parse('!announce Hello   "world", see https://x.y/?a=1&b=2')
    assert inv.kwargs["text"] == 'Hello   "world", see https://x.y/?a=1&b=2'
    assert router.parse('!announce "quoted all"').kwargs["text"] == "quoted all"


@pytest.mark.parametrize(
    "text,key",
    [
        ("!lang fr", "core.error.bad_choice"),
        ("!room create a b", "core.error.missing_arg"),
        ('!room create a "b c', "core.error.quotes"),
        ("!ping extra", "core.error.extra_args"),
        ("!count seven", "core.error.bad_value"),
        ("!announce", "core.error.missing_arg"),
    ],
)
def test_usage_errors(router, text, key):
    with pytest.raises(UsageError) as err:
        router.parse(text)
    assert err.value.key == key


def test_unknown_with_suggestion(router):
    res = router.parse("!pnig")
    assert isinstance(res, Unknown) and res.suggestion == "ping"
    res = router.parse("!sprahce de")
    assert res.suggestion == "sprache"
    assert router.parse("!xyzzyqq").suggestion is None


def test_usage_text_in_user_language(router):
    spec = router.parse("!lang").command.spec
    assert router.usage(spec, "de") == "!sprache [nl|de|en]"
    assert router.usage(spec, "nl") == "!taal [nl|de|en]"
    assert router.usage(spec, "en") == "!lang [nl|de|en]"


def test_duplicate_names_rejected():
    class Clash:
        @command("ping", help="x")
        async def a(self, ctx): ...

    r = Router()
    r.add_plugin("demo", Demo())
    with pytest.raises(ValueError):
        r.add_plugin("clash", Clash())


class Profiles:
    @command(
        "profile set",
        nl=("profiel zet",),
        de=("profil setze",),
        help="x",
        args=(
            Arg("field", choices={"en": ("town",), "nl": ("plaats",), "de": ("ort",)}, synonyms=("stadt",)),
            Arg("value", rest=True),
        ),
    )
    async def profile_set(self, ctx, field, value): ...


def test_usage_shows_only_the_users_own_words():
    r = Router("!")
    r.add_plugin("demo", Profiles())
    spec = r.parse("!profiel zet plaats Emmen").command.spec
    assert r.usage(spec, "nl") == "!profiel zet <field> <value…>"
    assert r.choice_lines(spec, "nl") == ["field: plaats"]
    assert r.choice_lines(spec, "de") == ["field: ort"]
    # Every language's word, and a synonym nobody is shown, is accepted wherever it is typed.
    for word in ("plaats", "ort", "town", "stadt"):
        assert r.parse(f"!profil setze {word} Meppen").kwargs["field"] == word
    with pytest.raises(UsageError) as bad:
        r.parse("!profil setze dorf Meppen")
    assert bad.value.params["choices"].words("de") == "ort"


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        ("!sprache de", "de"),
        ("!taal", "nl"),
        ("!lang", "en"),
        ("!raum erstellen a b c", "de"),
        ("!kamer maak", "nl"),
        ("!room create", "en"),
        ("!ping", None),  # no translated names: no language
        ("!SPRACHE", "de"),
        ("!sprahce", None),  # unknown: no language to take from it
        ("hallo", None),
    ],
)
def test_language_of_the_command_word(router, body, lang):
    assert router.language_of(body) == lang


def test_a_word_two_languages_share_tells_nothing():
    class Shared:
        @command("profile", nl=("profiel",), de=("profil",), help="x")
        async def profile(self, ctx): ...

        @command("stop", nl=("stop",), de=("stopp",), help="x")
        async def stop(self, ctx): ...

    r = Router("!")
    r.add_plugin("demo", Shared())
    assert r.language_of("!profil") == "de"
    assert r.language_of("!stop") is None  # English name and Dutch alias alike


def test_an_untranslated_name_tells_nothing():
    class Untranslated:
        @command("wg", help="x")
        async def wg(self, ctx): ...

    r = Router("!")
    r.add_plugin("demo", Untranslated())
    assert r.language_of("!wg") is None
