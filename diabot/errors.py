"""Exception hierarchy.

DiabotError
├── ConfigError     invalid configuration; the CLI exits with status 2
├── TransientError  the homeserver failed for now (5xx, timeout): try again later
└── UserError       a problem the user can fix; carries an i18n key + params
    ├── UsageError  wrong arguments for a command
    └── Forbidden   the sender lacks the permission for a command

Anything else raised by a handler is a bug: the error boundary logs it with a
trace id and the user gets a short apology quoting that id.
"""

from __future__ import annotations

from typing import Any


class DiabotError(Exception):
    pass


class ConfigError(DiabotError):
    """Each entry of `problems` names a key path and what was expected."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class TransientError(DiabotError):
    """Raised at the Matrix edge when the homeserver failed in a way that may
    pass (5xx, 429 after retries, timeout, connection refused). A passive
    handler that raises it is retried later; its event is not marked handled."""


class UserError(DiabotError):
    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key = key
        self.params = params


class UsageError(UserError):
    pass


class Forbidden(UserError):
    pass
