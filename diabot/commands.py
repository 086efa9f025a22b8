"""Declarative commands and handlers, and the one router that parses commands.

Decorators only attach metadata to a method (`CommandSpec`, `HandlerSpec`);
the router collects the commands of all enabled plugins, resolves names and
aliases (nl/de/en), parses arguments and produces help and usage texts.

Arguments are split on whitespace, not with shlex: Dutch has apostrophes
(`'t Hoekje`, `thema's`) that are never quotes. A word may be put in double
quotes, straight or typographic as phones type them ("…", “…”, „…“), to hold
spaces. `Arg(rest=True)` takes the rest of the line verbatim.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .errors import UsageError
from .events import Reaction, RoomEvent

if TYPE_CHECKING:
    from .permissions import Role


class Perm(StrEnum):
    """Who may run a command. Community-wide powers are never taken from the
    room a command is typed in: a member owns her own rooms and DMs."""

    ANYONE = "anyone"  # whoever shares a room with the bot (help, ping, own data)
    MEMBER = "member"  # a member of the community space (or an admin)
    ROOM_MODERATOR = "room_moderator"  # moderator of the room the command acts on (where it is typed)
    MODERATOR = "moderator"  # moderator of the community space, or in bot.admins


@dataclass(frozen=True)
class Offloaded:
    """An argument type parsed in a worker thread with the community's time
    zone and the current time (e.g. `diabot.dates.WHEN`): too slow for the
    event loop, where every room waits. The router keeps the raw text; the
    dispatcher completes the invocation after the permission check."""

    parse: Callable[[str, ZoneInfo, datetime], Any]


ArgType = Callable[[str], Any] | Offloaded


@dataclass(frozen=True)
class Arg:
    """One argument. `type` converts the text: it may raise UsageError with its
    own key, or ValueError/TypeError (-> core.error.bad_value).

    rest: the remainder of the line, verbatim (one fully double-quoted rest is unquoted).
    variadic: all remaining words as a list, at least `at_least` (1 unless optional), at most `at_most`.
    Both only as the last argument."""

    name: str
    help: str = ""  # i18n key describing the value, shown in usage
    optional: bool = False
    # The words allowed; per language ({"nl": (...), "de": (...), "en": (...)}) when they are
    # names a user types in their own language: all are accepted, usage shows the user's own.
    choices: tuple[str, ...] | Mapping[str, tuple[str, ...]] = ()
    synonyms: tuple[str, ...] = ()  # accepted as well, never shown
    rest: bool = False
    variadic: bool = False
    at_least: int | None = None
    at_most: int | None = None
    type: ArgType = str


def allowed_choices(arg: Arg) -> tuple[str, ...]:
    shown = arg.choices.values() if isinstance(arg.choices, Mapping) else [arg.choices]
    return tuple(dict.fromkeys(word for words in [*shown, arg.synonyms] for word in words))


def choices_in(arg: Arg, lang: str) -> tuple[str, ...]:
    """The choices a user of `lang` is shown."""
    if isinstance(arg.choices, Mapping):
        return arg.choices.get(lang) or arg.choices.get("en") or allowed_choices(arg)
    return arg.choices


@dataclass(frozen=True)
class ChoiceList:
    """A bad_choice error's list of choices, written out in the reader's language."""

    arg: Arg

    def words(self, lang: str) -> str:
        return ", ".join(choices_in(self.arg, lang))


@dataclass(frozen=True)
class CommandSpec:
    name: str  # may hold a space for subcommands: "room create"
    help: str  # i18n key
    args: tuple[Arg, ...] = ()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lang -> names
    perm: Perm | Role = Perm.MEMBER

    def __post_init__(self) -> None:
        for arg in self.args[:-1]:
            if arg.rest or arg.variadic:
                raise ValueError(f"{self.name}: only the last argument may be rest or variadic ({arg.name})")


def command(
    name: str,
    *,
    help: str,
    args: tuple[Arg, ...] | list[Arg] = (),
    nl: tuple[str, ...] | list[str] = (),
    de: tuple[str, ...] | list[str] = (),
    en: tuple[str, ...] | list[str] = (),
    perm: Perm | Role = Perm.MEMBER,
) -> Callable[[Handler], Handler]:
    spec = CommandSpec(name, help, tuple(args), {"nl": tuple(nl), "de": tuple(de), "en": tuple(en)}, perm)

    def mark(fn: Handler) -> Handler:
        setattr(fn, _COMMAND_MARK, spec)
        return fn

    return mark


def reaction_key(key: str) -> str:
    """Clients differ in sending the emoji variation selector: ✅ vs ✅\\ufe0f."""
    return key.replace("\ufe0f", "")


@dataclass(frozen=True)
class HandlerSpec:
    """Which events a passive handler wants: event classes (Reaction, Membership,
    …) and/or Matrix event types ("m.poll.response"); for reactions optionally
    one key."""

    kinds: tuple[type[RoomEvent] | str, ...]
    key: str | None = None

    def wants(self, event: RoomEvent) -> bool:
        if not any(event.type == k if isinstance(k, str) else isinstance(event, k) for k in self.kinds):
            return False
        return self.key is None or (isinstance(event, Reaction) and reaction_key(event.key) == self.key)


def on(*kinds: type[RoomEvent] | str, key: str | None = None) -> Callable[[Handler], Handler]:
    """Mark a method as a handler: `@on(Reaction, key="✅")`,
    `@on("m.poll.response", "org.matrix.msc3381.poll.response")`."""
    if not kinds:
        raise ValueError("@on needs at least one event class or Matrix event type")
    spec = HandlerSpec(kinds, reaction_key(key) if key is not None else None)

    def mark(fn: Handler) -> Handler:
        setattr(fn, _HANDLER_MARK, spec)
        return fn

    return mark


Handler = Callable[..., Awaitable[None]]

# Where @command and @on keep their spec on the function (read through the helpers below, which mypy can see).
_COMMAND_MARK = "__diabot_command__"
_HANDLER_MARK = "__diabot_event__"


def command_spec(fn: object) -> CommandSpec | None:
    """The CommandSpec of a @command method (or of anything else: None)."""
    spec = getattr(fn, _COMMAND_MARK, None)
    return spec if isinstance(spec, CommandSpec) else None


def handler_spec(fn: object) -> HandlerSpec | None:
    """The HandlerSpec of an @on method (or of anything else: None)."""
    spec = getattr(fn, _HANDLER_MARK, None)
    return spec if isinstance(spec, HandlerSpec) else None


def spec_of(fn: Handler) -> CommandSpec:
    """The command a method declares, e.g. to name `self.join` in a help text."""
    spec = command_spec(fn)
    if spec is None:
        raise TypeError(f"{fn!r} is not a @command")
    return spec


@dataclass(frozen=True)
class BoundCommand:
    spec: CommandSpec
    handler: Handler
    plugin: str


@dataclass(frozen=True)
class Pending:
    """The raw text of an Offloaded argument, parsed by `Router.complete`."""

    arg: Arg
    raw: str


@dataclass(frozen=True)
class Invocation:
    command: BoundCommand
    kwargs: dict[str, Any]
    used_name: str

    @property
    def complete(self) -> bool:
        return not any(_pending_in(v) for v in self.kwargs.values())


@dataclass(frozen=True)
class Unknown:
    name: str
    suggestion: str | None


# Opening double quotes as typed on keyboards and phones (nl/en “…”, de/nl „…“ or „…”).
OPEN_QUOTES = '"“„”'
CLOSE_QUOTES = '"”“'
_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"\S+")


def next_word(text: str, pos: int = 0) -> tuple[str, int] | None:
    """The word or double-quoted phrase at `pos` (after any whitespace) and the
    position after it; None at the end. An apostrophe is never a quote."""
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if pos >= len(text):
        return None
    if text[pos] in OPEN_QUOTES:
        end = next((i for i in range(pos + 1, len(text)) if text[i] in CLOSE_QUOTES), -1)
        if end < 0:
            raise UsageError("core.error.quotes")
        return text[pos + 1 : end], end + 1
    match = _WORD.match(text, pos)
    assert match is not None
    return match.group(), match.end()


def split_words(text: str) -> list[str]:
    words, pos = [], 0
    while (found := next_word(text, pos)) is not None:
        word, pos = found
        words.append(word)
    return words


def unquote_whole(text: str) -> str:
    """`"hi there"` -> `hi there`, only if the quotes enclose the whole text."""
    if len(text) >= 2 and text[0] in OPEN_QUOTES and text[-1] in CLOSE_QUOTES:
        inner = text[1:-1]
        if not any(c in CLOSE_QUOTES for c in inner):
            return inner
    return text


class Router:
    def __init__(self, prefix: str = "!"):
        self.prefix = prefix
        self.commands: list[BoundCommand] = []
        self._names: dict[tuple[str, ...], BoundCommand] = {}

    def add_plugin(self, plugin_name: str, plugin: object) -> None:
        for attr in dir(type(plugin)):
            spec = command_spec(getattr(type(plugin), attr))
            if spec is None:
                continue
            bound = BoundCommand(spec, getattr(plugin, attr), plugin_name)
            self.commands.append(bound)
            for name in self.names_of(spec):
                key = tuple(name.split())
                if key in self._names and self._names[key] is not bound:
                    raise ValueError(f"command name {name!r} declared twice")
                self._names[key] = bound

    @staticmethod
    def names_of(spec: CommandSpec) -> list[str]:
        names = [spec.name]
        for lang in ("en", "nl", "de"):
            names.extend(a for a in spec.aliases.get(lang, ()) if a not in names)
        return names

    def display_name(self, spec: CommandSpec, lang: str) -> str:
        """The name a user of that language sees in help: their alias if any."""
        own = spec.aliases.get(lang, ())
        return own[0] if own else spec.name

    def language_of(self, body: str) -> str | None:
        """The language of the command word in `body` ("!profil" → de, "!profiel" → nl), if
        only one language has that word: a member who has not chosen a language is answered
        in the one they just typed in."""
        if not self.is_command(body):
            return None
        words = [w.lower() for w in body[len(self.prefix) :].split()[:3]]
        for n in range(len(words), 0, -1):
            bound = self._names.get(tuple(words[:n]))
            if bound is None:
                continue
            used = " ".join(words[:n])
            spec = bound.spec
            langs = {lang for lang, names in spec.aliases.items() if used in names}
            if used == spec.name and (spec.aliases.get("nl") or spec.aliases.get("de")):
                langs.add("en")  # a name nobody translated (!wg) is no language's word
            return langs.pop() if len(langs) == 1 else None
        return None

    def is_command(self, body: str) -> bool:
        return body.startswith(self.prefix) and len(body) > len(self.prefix) and not body[len(self.prefix)].isspace()

    def parse(self, body: str) -> Invocation | Unknown | None:
        """None: not a command at all. Raises UsageError for bad arguments.
        Offloaded arguments stay `Pending` until `complete()`."""
        if not self.is_command(body):
            return None
        text = body[len(self.prefix) :].strip()
        words = text.split()
        # Longest match first, so "room create" wins over "room".
        for n in range(min(3, len(words)), 0, -1):
            key = tuple(w.lower() for w in words[:n])
            bound = self._names.get(key)
            if bound is None:
                continue
            rest = text
            for w in words[:n]:
                rest = rest[rest.index(w) + len(w) :]
            try:
                kwargs = self.parse_args(bound.spec, rest.strip())
            except UsageError as exc:
                exc.spec = bound.spec  # type: ignore[attr-defined]  # lets the error boundary add the usage line
                raise
            return Invocation(bound, kwargs, " ".join(key))
        name = words[0].lower()
        return Unknown(name, self.suggest(" ".join(w.lower() for w in words[:2])) or self.suggest(name))

    def suggest(self, name: str) -> str | None:
        choices = [" ".join(k) for k in self._names]
        from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

        best = process.extractOne(name, choices, scorer=fuzz.ratio, score_cutoff=60)
        return best[0] if best else None

    def parse_args(self, spec: CommandSpec, text: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        pos = 0
        for arg in spec.args:
            if arg.rest:
                value = unquote_whole(text[pos:].strip())
                pos = len(text)
                if not value and not arg.optional:
                    raise UsageError("core.error.missing_arg", arg=arg.name)
                kwargs[arg.name] = _convert(arg, value) if value else None
            elif arg.variadic:
                words = split_words(text[pos:])
                pos = len(text)
                _check_count(arg, len(words))
                kwargs[arg.name] = [_convert(arg, w) for w in words]
            elif (found := next_word(text, pos)) is not None:
                word, pos = found
                kwargs[arg.name] = _convert(arg, word)
            elif arg.optional:
                kwargs[arg.name] = None
            else:
                raise UsageError("core.error.missing_arg", arg=arg.name)
        if extra := text[pos:].strip():
            raise UsageError("core.error.extra_args", extra=extra)
        return kwargs

    async def complete(self, invocation: Invocation, zone: ZoneInfo, now: datetime) -> Invocation:
        """Parse the Offloaded arguments in a worker thread. Raises UsageError."""
        if invocation.complete:
            return invocation

        async def resolve(value: Any) -> Any:
            if isinstance(value, Pending):
                assert isinstance(value.arg.type, Offloaded)
                return await asyncio.to_thread(value.arg.type.parse, value.raw, zone, now)
            if isinstance(value, list):
                return [await resolve(v) for v in value]
            return value

        try:
            kwargs = {name: await resolve(value) for name, value in invocation.kwargs.items()}
        except UsageError as exc:
            exc.spec = invocation.command.spec  # type: ignore[attr-defined]
            raise
        return replace(invocation, kwargs=kwargs)

    def usage(self, spec: CommandSpec, lang: str, label_of: Callable[[str], str] = str) -> str:
        """`label_of` turns an argument name into the user's word for it."""
        parts = [f"{self.prefix}{self.display_name(spec, lang)}"]
        for arg in spec.args:
            inline = arg.choices and not isinstance(arg.choices, Mapping)
            label = "|".join(choices_in(arg, lang)) if inline else label_of(arg.name)
            label = f"{label}…" if arg.rest or arg.variadic else label
            parts.append(f"[{label}]" if arg.optional else f"<{label}>")
        return " ".join(parts)

    def choice_lines(self, spec: CommandSpec, lang: str, label_of: Callable[[str], str] = str) -> list[str]:
        """Below the usage line: the words of each per-language choice, in the user's language."""
        return [
            f"{label_of(arg.name)}: {', '.join(choices_in(arg, lang))}"
            for arg in spec.args
            if isinstance(arg.choices, Mapping)
        ]

    def find(self, name: str) -> BoundCommand | None:
        return self._names.get(tuple(name.lower().lstrip(self.prefix).split()))


def _convert(arg: Arg, text: str) -> Any:
    if arg.choices:
        if text.lower() not in allowed_choices(arg):
            raise UsageError("core.error.bad_choice", arg=arg.name, value=text, choices=ChoiceList(arg))
        text = text.lower()
    if isinstance(arg.type, Offloaded):
        return Pending(arg, text)
    try:
        return arg.type(text)
    except UsageError:
        raise
    except (TypeError, ValueError):
        raise UsageError("core.error.bad_value", arg=arg.name, value=text) from None


def _check_count(arg: Arg, count: int) -> None:
    at_least = arg.at_least if arg.at_least is not None else (0 if arg.optional else 1)
    if count == 0 and at_least > 0:
        raise UsageError("core.error.missing_arg", arg=arg.name)
    if count < at_least:
        raise UsageError("core.error.too_few", arg=arg.name, count=at_least)
    if arg.at_most is not None and count > arg.at_most:
        raise UsageError("core.error.too_many", arg=arg.name, count=arg.at_most)


def _pending_in(value: Any) -> bool:
    return isinstance(value, Pending) or (isinstance(value, list) and any(isinstance(v, Pending) for v in value))
