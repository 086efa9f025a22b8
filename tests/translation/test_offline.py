"""Translation needs no network at run time: install from a local file,
load, identify the language and translate (pivoting through English) inside
a network namespace with no interfaces at all (`unshare -n`)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.argos_model import build_argosmodel

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json, socket, sys
from pathlib import Path
from diabot.translation import build_translator
from diabot.config import TranslationSettings
# Prove the namespace really has no network.
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2)
    reachable = True
except OSError:
    reachable = False
settings = TranslationSettings(packages_dir=Path(sys.argv[1]), glossary=Path(sys.argv[3]))
translator = build_translator(settings)
translator.engine.install_file(Path(sys.argv[2]))
async def main():
    text = "Wij zoeken een partner. Zie https://example.org en bel morgen! Onze BV groeit."
    lang = await translator.detect(text)
    out = await translator.translate(text, lang, "de")
    print(json.dumps({"reachable": reachable, "lang": lang, "route": translator.engine.route("nl", "de"), "out": out}))
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline-models")
    for pair in (("nl", "en"), ("en", "de")):
        build_argosmodel(folder, *pair)
    return folder


def test_translation_works_with_network_blocked(models, tmp_path):
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to block the network for this test")
    result = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-c",
            SCRIPT,
            str(tmp_path / "packages"),
            str(models),
            str(ROOT / "config" / "glossary.yaml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["reachable"] is False
    assert data["lang"] == "nl"
    assert data["route"] == [["nl", "en"], ["en", "de"]]
    assert "https://example.org" in data["out"] and "GmbH" in data["out"]
