"""Shared fixtures for the translation tests."""

import pytest

from devtools.argos_model import build_argosmodel
from diabot.translation.engine import ArgosEngine, EngineSettings


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Tiny real nl->en and en->de Argos packages, installed through the real path (nl->de pivots)."""
    models = tmp_path_factory.mktemp("m")
    for pair in (("nl", "en"), ("en", "de")):
        build_argosmodel(models, *pair)
    packages = tmp_path_factory.mktemp("p")
    ArgosEngine(EngineSettings(packages)).install_file(models)
    return packages
