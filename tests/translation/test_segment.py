"""What reaches the model and what never does."""

from diabot.translation.segment import Glossary, split_pieces

GLOSSARY = Glossary(
    [
        {"nl": "KvK", "de": "Handelsregister"},
        {"nl": "BV", "de": "GmbH"},
        {"nl": "Ondernemend Emmen", "de": "Ondernemend Emmen"},
    ]
)


def model_input(text, tgt="de"):
    return [p.text for p in split_pieces(text, GLOSSARY, tgt) if p.translate]


def kept(text, tgt="de"):
    return [p.text for p in split_pieces(text, GLOSSARY, tgt) if not p.translate]


def test_roundtrip_without_glossary_terms():
    text = (
        "Hoi @jan:localhost, zie https://x.org/a?b=1 of mail a.b@c.nl 👍\n"
        "- punt **vet** `code` #energie om 10:30 op 24-12-2026"
    )
    assert "".join(p.text for p in split_pieces(text, None, "de")) == text


def test_protected_spans_never_reach_the_model():
    text = (
        "Hoi @jan:localhost en @piet, zie https://x.org/a?b=1 of www.dia.eu, mail a.b@c.nl 👍🏽 "
        "#energie #room:server.org om 10:30 op 24-12-2026 voor € 12,50 of 30% `pip install` ```blok```"
    )
    sent = " ".join(model_input(text))
    for span in (
        "@jan:localhost",
        "@piet",
        "https://x.org/a?b=1",
        "www.dia.eu",
        "a.b@c.nl",
        "👍",
        "#energie",
        "#room:server.org",
        "10:30",
        "24-12-2026",
        "12,50",
        "30%",
        "pip install",
        "blok",
    ):
        assert span not in sent, span


def test_glossary_maps_to_target_language():
    pieces = kept("Wij zijn een BV, ingeschreven bij de KvK en lid van Ondernemend Emmen.")
    assert "GmbH" in pieces and "Handelsregister" in pieces and "Ondernemend Emmen" in pieces
    assert "BV" not in " ".join(model_input("Wij zijn een BV."))
    # Whole words only: "BVB" is not the company form.
    assert "BVB" in " ".join(model_input("De BVB speelt morgen."))


def test_markdown_structure_is_kept():
    pieces = split_pieces("- eerste punt\n1. tweede\n> citaat met **nadruk**", None, "de")
    kept_text = [p.text for p in pieces if not p.translate]
    assert kept_text[:1] == ["- "] and "1. " in kept_text and "> " in kept_text and kept_text.count("**") == 2
    assert [p.text for p in pieces if p.translate] == ["eerste punt", "tweede", "citaat met", "nadruk"]


def test_wordless_text_is_not_translated():
    assert model_input("👍 !!! 12:00 :-)") == []
