"""Declarative commands and the one router that parses and dispatches them.

Decorators only attach a `CommandSpec` to a method; the router collects the
specs of all enabled plugins, resolves names and aliases (nl/de/en), parses
arguments, checks permissions and produces help and usage texts.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process

from .errors import UsageError


class Perm(StrEnum):
    """Who may run a command. Community-wide powers are never taken from the
    room a command is typed in: a member owns her own rooms and DMs."""

    ANYONE = "anyone"  # whoever shares a room with the bot (help, ping, own data)
    MEMBER = "member"  # a member of the community space (or an admin)
    ROOM_MODERATOR = "room_moderator"  # moderator of the room the command acts on (where it is typed)
    MODERATOR = "moderator"  # moderator of the community space, or in bot.admins


@dataclass(frozen=True)
class Arg:
    """One positional argument. `rest` swallows the remainder verbatim."""

    name: str
    help: str = ""  # i18n key describing the value, shown in usage
    optional: bool = False
    choices: tuple[str, ...] = ()
    rest: bool = False
    type: Callable[[str], Any] = str


@dataclass(frozen=True)
class CommandSpec:
    name: str  # may hold a space for subcommands: "room create"
    help: str  # i18n key
    args: tuple[Arg, ...] = ()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lang -> names
    perm: Perm = Perm.MEMBER


def command(
    name: str,
    *,
    help: str,
    args: tuple[Arg, ...] | list[Arg] = (),
    nl: tuple[str, ...] | list[str] = (),
    de: tuple[str, ...] | list[str] = (),
    en: tuple[str, ...] | list[str] = (),
    perm: Perm = Perm.MEMBER,
):
    spec = CommandSpec(name, help, tuple(args), {"nl": tuple(nl), "de": tuple(de), "en": tuple(en)}, perm)

    def mark(fn):
        fn.__diabot_command__ = spec
        return fn

    return mark


def on(event_kind: type):
    """Mark a method as a handler for a kind of event (Reaction, Membership, …)."""

    def mark(fn):
        fn.__diabot_event__ = event_kind
        return fn

    return mark


Handler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class BoundCommand:
    spec: CommandSpec
    handler: Handler
    plugin: str


@dataclass(frozen=True)
class Invocation:
    command: BoundCommand
    kwargs: dict[str, Any]
    used_name: str


@dataclass(frozen=True)
class Unknown:
    name: str
    suggestion: str | None


def tokenize(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        raise UsageError("core.error.quotes") from None


class Router:
    def __init__(self, prefix: str = "!"):
        self.prefix = prefix
        self.commands: list[BoundCommand] = []
        self._names: dict[tuple[str, ...], BoundCommand] = {}

    def add_plugin(self, plugin_name: str, plugin: object) -> None:
        for attr in dir(type(plugin)):
            spec = getattr(getattr(type(plugin), attr), "__diabot_command__", None)
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

    def is_command(self, body: str) -> bool:
        return body.startswith(self.prefix) and len(body) > len(self.prefix) and not body[len(self.prefix)].isspace()

    def parse(self, body: str) -> Invocation | Unknown | None:
        """None: not a command at all. Raises UsageError for bad arguments."""
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
                exc.spec = bound.spec  # lets the error boundary add the usage line
                raise
            return Invocation(bound, kwargs, " ".join(key))
        name = words[0].lower()
        return Unknown(name, self.suggest(" ".join(w.lower() for w in words[:2])) or self.suggest(name))

    def suggest(self, name: str) -> str | None:
        choices = [" ".join(k) for k in self._names]
        best = process.extractOne(name, choices, scorer=fuzz.ratio, score_cutoff=60)
        return best[0] if best else None

    def parse_args(self, spec: CommandSpec, text: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        remaining = text
        for _i, arg in enumerate(spec.args):
            if arg.rest:
                value = remaining.strip()
                # A single quoted rest is unquoted, e.g. !announce "hi there".
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value = value[1:-1]
                if not value and not arg.optional:
                    raise UsageError("core.error.missing_arg", arg=arg.name)
                kwargs[arg.name] = value or None
                remaining = ""
                break
            tokens = tokenize(remaining)
            if not tokens:
                if not arg.optional:
                    raise UsageError("core.error.missing_arg", arg=arg.name)
                kwargs[arg.name] = None
                continue
            token = tokens[0]
            remaining = _after_first_token(remaining)
            if arg.choices and token.lower() not in arg.choices:
                raise UsageError("core.error.bad_choice", arg=arg.name, value=token, choices=", ".join(arg.choices))
            try:
                kwargs[arg.name] = arg.type(token.lower() if arg.choices else token)
            except (TypeError, ValueError):
                raise UsageError("core.error.bad_value", arg=arg.name, value=token) from None
        if remaining.strip():
            raise UsageError("core.error.extra_args", extra=remaining.strip())
        return kwargs

    def usage(self, spec: CommandSpec, lang: str, label_of: Callable[[str], str] = str) -> str:
        """`label_of` turns an argument name into the user's word for it."""
        parts = [f"{self.prefix}{self.display_name(spec, lang)}"]
        for arg in spec.args:
            label = "|".join(arg.choices) if arg.choices else label_of(arg.name)
            label = f"{label}…" if arg.rest else label
            parts.append(f"[{label}]" if arg.optional else f"<{label}>")
        return " ".join(parts)

    def find(self, name: str) -> BoundCommand | None:
        return self._names.get(tuple(name.lower().lstrip(self.prefix).split()))


def _after_first_token(text: str) -> str:
    """The text after the first shell-like token (quotes respected)."""
    lex = shlex.shlex(text, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    lex.get_token()
    rest = lex.instream.read()
    return rest
