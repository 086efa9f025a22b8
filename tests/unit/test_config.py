"""Configuration: typed, errors name the key path, exit status 2, secrets hidden."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from diabot.config import load_settings, parse_settings
from diabot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"matrix": {"homeserver": "http://127.0.0.1:8008", "user_id": "@bot:localhost", "password": "s3cret-pw"}}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "diabot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def write(tmp_path, data) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_example_config_is_valid_but_its_placeholder_password_is_not_run(tmp_path):
    example = ROOT / "config" / "diabot.example.yaml"
    result = run_cli("-c", str(example), "check-config")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert 'placeholder "change-me"' in result.stdout  # said, not silently accepted
    data = yaml.safe_load(example.read_text())
    data["data_dir"] = str(tmp_path / "data")
    data["themes_file"] = str(ROOT / "config" / "themes.yaml")
    result = run_cli("run", "-c", str(write(tmp_path, data)))  # -c after the command works too
    assert result.returncode == 2 and 'placeholder "change-me"' in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was made


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda c: c["matrix"].update(homeserver="ftp://x"), "matrix.homeserver"),
        (lambda c: c.setdefault("permissions", {}).update(moderator_level="high"), "permissions.moderator_level"),
        (lambda c: c.setdefault("bot", {}).update(default_language="fr"), "bot.default_language"),
        (lambda c: c.setdefault("invites", {}).update(allow_users=["Anna"]), "invites.allow_users"),
        (lambda c: c.setdefault("web", {}).update(prot=80), "web.prot: unknown key"),
        (lambda c: c["matrix"].pop("user_id"), "matrix.user_id: required key is missing"),
        (lambda c: c.update(plugins={"nosuch": {}}), "plugins.nosuch: no such plugin"),
    ],
)
def test_malformed_config_exits_2_naming_the_key(tmp_path, mutate, expected):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    mutate(data)
    path = write(tmp_path, data)
    for cmd in ("check-config", "run"):
        result = run_cli("-c", str(path), cmd)
        assert result.returncode == 2, (cmd, result.stdout, result.stderr)
        assert expected in result.stderr
        assert "s3cret-pw" not in result.stderr + result.stdout


def test_not_yaml_and_missing_file(tmp_path):
    result = run_cli("-c", str(write(tmp_path, "matrix: [unclosed")), "check-config")
    assert result.returncode == 2 and "not valid YAML at line" in result.stderr
    result = run_cli("-c", str(tmp_path / "nope.yaml"), "check-config")
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_secrets_from_environment_and_never_in_repr(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    del data["matrix"]["password"]
    with pytest.raises(ConfigError) as err:
        parse_settings(data, env={})
    assert "matrix.password" in str(err.value)
    settings = parse_settings(data, env={"DIABOT_MATRIX_PASSWORD": "from-env-pw"})
    assert settings.matrix.password.get_secret_value() == "from-env-pw"
    assert "from-env-pw" not in repr(settings) and "from-env-pw" not in str(settings.model_dump())
    assert "from-env-pw" in settings.secrets()


def test_relative_data_dir_is_relative_to_config_file(tmp_path):
    path = write(tmp_path, {**GOOD, "data_dir": "state"})
    assert load_settings(path, env={}).data_dir == (tmp_path / "state").resolve()


def test_log_filter_masks_secrets(capsys):
    import logging

    from diabot.logs import setup_logging

    setup_logging("INFO", "json", ["super-secret-token"])
    logging.getLogger("x").warning("token is super-secret-token in %s", "url")
    err = capsys.readouterr().err
    assert "super-secret-token" not in err and "***" in err
