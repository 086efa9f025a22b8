"""The plugin base: a plugin's settings schema comes from its type argument
(`Plugin[XConfig]`), and the spec of a @command method is read with spec_of."""

import pytest

from diabot.commands import command, on, spec_of
from diabot.events import Reaction
from diabot.plugin import Plugin, PluginConfig


class Greeting(PluginConfig):
    text: str = "hoi"


class Greeter(Plugin[Greeting]):
    name = "greeter"

    @command("greet", help="core.ping.help")
    async def greet(self, ctx):
        pass

    @on(Reaction)
    async def reacted(self, ctx, event):
        pass


class LoudGreeter(Greeter):
    pass


class Untyped(Plugin):
    name = "untyped"


def test_config_schema_is_the_type_argument():
    assert Greeter.Config is Greeting
    assert LoudGreeter.Config is Greeting  # inherited
    assert Untyped.Config is PluginConfig  # a bare Plugin takes no settings
    plugin = Greeter(None, Greeter.Config.model_validate({"text": "moin"}))
    assert plugin.config.text == "moin"


def test_spec_of_names_the_command_and_refuses_anything_else():
    plugin = Greeter(None, Greeting())
    assert spec_of(plugin.greet).name == "greet"
    assert spec_of(Greeter.greet) is spec_of(plugin.greet)
    with pytest.raises(TypeError):
        spec_of(plugin.reacted)  # a handler, not a command
