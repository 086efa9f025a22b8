"""A plugin for crash tests of room creation, loaded only by tests/support/failing_bot.py as `plugins.roomtest`."""
