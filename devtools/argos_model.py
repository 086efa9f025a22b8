"""Build a real `.argosmodel` package offline, with random weights.

No registry ships an nl/de/en model, so tests and benchmarks make their own:
SentencePiece trained on a small text, a random-weights CTranslate2
Transformer built through CTranslate2's converter API, metadata.json, zipped
the way the Argos index ships them. The output is nonsense; installing,
loading, pivoting and inference are the real code paths.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Enough varied text for SentencePiece to learn a small vocabulary.
CORPUS = """
Wij zoeken een partner voor de energietransitie in Emmen en omgeving.
Heeft iemand ervaring met subsidies voor zonnepanelen op bedrijfsdaken?
Onze stagiairs zoeken een leerbedrijf aan de Duitse kant van de grens.
Morgen is de bijeenkomst over logistiek in Meppen, wie gaat er mee?
Wir suchen einen Partner für die Energiewende im Emsland.
Hat jemand Erfahrung mit Fördermitteln für Photovoltaik auf Firmendächern?
Unsere Auszubildenden suchen einen Praktikumsplatz in den Niederlanden.
Morgen findet das Treffen zur Logistik in Emmen statt, wer kommt mit?
We are looking for a partner for the energy transition in the region.
Does anyone have experience with grants for solar panels on company roofs?
Our interns are looking for a company across the border.
Tomorrow is the meeting about logistics and trade, who is coming along?
De digitalisering van onze processen kost veel tijd en geld.
Die Digitalisierung unserer Prozesse kostet viel Zeit und Geld.
The digitalisation of our processes costs a lot of time and money.
Wij bieden vergaderruimte en apparatuur aan voor workshops.
Wir bieten Besprechungsräume und Geräte für Workshops an.
We offer meeting space and equipment for workshops.
""".strip()


@dataclass(frozen=True)
class ModelShape:
    layers: int = 2
    d_model: int = 64
    ffn: int = 128
    heads: int = 2
    vocab: int = 400


TINY = ModelShape()
# The shape of the public Argos models (Transformer base).
ARGOS_BASE = ModelShape(layers=6, d_model=512, ffn=2048, heads=8, vocab=50_000)


def _train_sentencepiece(folder: Path, vocab: int) -> list[str]:
    import sentencepiece as spm

    corpus = folder / "corpus.txt"
    if vocab <= 1000:
        corpus.write_text(CORPUS * 20)
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(folder / "sp"),
            vocab_size=vocab,
            character_coverage=1.0,
            model_type="unigram",
            hard_vocab_limit=False,
            minloglevel=2,
        )
    else:
        # A big vocabulary cannot be learned from a small text: train a small
        # model for tokenizing and pad the vocabulary with synthetic pieces;
        # the cost of inference depends on its size, not on its content.
        corpus.write_text(CORPUS * 20)
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(folder / "sp"),
            vocab_size=400,
            character_coverage=1.0,
            model_type="unigram",
            hard_vocab_limit=False,
            minloglevel=2,
        )
    processor = spm.SentencePieceProcessor(model_file=str(folder / "sp.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    pieces += [f"▁x{i}" for i in range(vocab - len(pieces))]
    return pieces


def _fill_random(spec, shape: ModelShape, rng: np.random.Generator) -> None:
    from ctranslate2.specs.model_spec import LayerSpec

    d, f, v = shape.d_model, shape.ffn, shape.vocab

    def weight(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def walk(obj, path: str) -> None:
        for name, value in list(obj.__dict__.items()):
            full = f"{path}.{name}"
            if isinstance(value, LayerSpec):
                walk(value, full)
            elif isinstance(value, list) and value and isinstance(value[0], LayerSpec):
                for i, item in enumerate(value):
                    walk(item, f"{full}[{i}]")
            elif value is None:
                setattr(obj, name, _shape_for(full, d, f, v, weight))

    walk(spec, "")


def _shape_for(path: str, d: int, f: int, v: int, weight) -> np.ndarray:
    if path.endswith(("gamma",)):
        return np.ones(d, dtype=np.float32)
    if path.endswith("beta"):
        return np.zeros(d, dtype=np.float32)
    if "embeddings" in path or "projection" in path:
        return weight(v, d)
    if "self_attention.linear[0]" in path:
        return weight(3 * d, d)
    if ".attention.linear[1]" in path:  # cross-attention keys+values
        return weight(2 * d, d)
    if "linear_0" in path:
        return weight(f, d)
    if "linear_1" in path:
        return weight(d, f)
    if "linear[" in path:
        return weight(d, d)
    raise ValueError(f"no shape rule for {path}")


def build_argosmodel(
    out_dir: Path,
    from_code: str,
    to_code: str,
    shape: ModelShape = TINY,
    quantization: str = "int8",
    seed: int = 0,
    eos_bias: float = 1.0,
) -> Path:
    """Write `<out_dir>/translate-<from>_<to>.argosmodel` and return its path."""
    import ctranslate2
    from ctranslate2.specs import transformer_spec

    names = {"nl": "Dutch", "de": "German", "en": "English"}
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        top = tmp / f"translate-{from_code}_{to_code}"
        top.mkdir()
        pieces = _train_sentencepiece(tmp, shape.vocab)
        shutil.copy(tmp / "sp.model", top / "sentencepiece.model")
        spec = transformer_spec.TransformerSpec.from_config(shape.layers, shape.heads)
        _fill_random(spec, shape, np.random.default_rng(seed))
        if eos_bias:
            # Random weights rarely pick </s>: nudge it so the nonsense stays
            # short. Costs nothing at real shape (the benchmark uses 0).
            bias = np.zeros(shape.vocab, dtype=np.float32)
            bias[pieces.index("</s>")] = eos_bias
            spec.decoder.projection.bias = bias
        spec.register_source_vocabulary(pieces)
        spec.register_target_vocabulary(pieces)

        class _Random(ctranslate2.converters.Converter):
            def _load(self):
                return spec

        _Random().convert(str(top / "model"), quantization=quantization, force=True)
        (top / "metadata.json").write_text(
            json.dumps(
                {
                    "package_version": "0.0.1-test",
                    "argos_version": "1.12",
                    "from_code": from_code,
                    "from_name": names.get(from_code, from_code),
                    "to_code": to_code,
                    "to_name": names.get(to_code, to_code),
                    "type": "translate",
                    "languages": [],
                    "links": [],
                }
            )
        )
        target = out_dir / f"translate-{from_code}_{to_code}.argosmodel"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(top.rglob("*")):
                zf.write(path, path.relative_to(tmp))
    return target


if __name__ == "__main__":
    import sys
    import time

    t = time.perf_counter()
    for pair in sys.argv[2:] or ["nl-en", "en-de", "de-en", "en-nl"]:
        a, b = pair.split("-")
        print(build_argosmodel(Path(sys.argv[1]), a, b))
    print(f"{time.perf_counter() - t:.2f}s")
