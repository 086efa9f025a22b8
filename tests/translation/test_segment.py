"""What reaches the model: whole sentences, with numbers in them and the
spans it must not touch as placeholders; and the piecewise way kept for
sentences whose placeholders do not come back."""

from diabot.translation.segment import Glossary, Sentence, piecewise, plan, split_pieces

GLOSSARY = Glossary(
    [
        {"nl": "KvK", "de": "Handelsregister"},
        {"nl": "BV", "de": "GmbH"},
        {"nl": "Ondernemend Emmen", "de": "Ondernemend Emmen"},
    ]
)


def model_input(text, tgt="de"):
    return [p.model_input for p in plan(text, GLOSSARY, "nl", tgt) if isinstance(p, Sentence)]


def unchanged(text, glossary=GLOSSARY, tgt="de"):
    """The message put together again as if the model copied its input."""
    return "".join(p if isinstance(p, str) else p.restore(p.model_input) for p in plan(text, glossary, "nl", tgt))


def test_a_sentence_reaches_the_model_whole():
    # Before: "Ik heb gisteren" + "offertes gestuurd naar", each translated alone.
    assert model_input("Ik heb gisteren 3 offertes gestuurd naar @katrin") == [
        "Ik heb gisteren 3 offertes gestuurd naar X1"
    ]
    assert model_input("Wir treffen uns am 24.12. um 10:30 Uhr für € 12,50 mit 30% Rabatt.") == [
        "Wir treffen uns am 24.12. um 10:30 Uhr für € 12,50 mit 30% Rabatt."
    ]


def test_the_message_comes_back_as_it_was_when_the_model_copies():
    text = (
        "Hoi @jan:localhost, zie https://x.org/a?b=1 of mail a.b@c.nl 👍\n"
        "- punt **vet** `code` #energie om 10:30 op 24-12-2026\n"
        "Super👍 idee! Tot morgen 🎉 🎉"
    )
    assert unchanged(text, glossary=None) == text


def test_protected_spans_reach_the_model_only_as_placeholders():
    text = (
        "Hoi @jan:localhost en @piet, zie https://x.org/a?b=1 of www.dia.eu, mail a.b@c.nl 👍🏽 "
        "#energie #room:server.org om 10:30 op 24-12-2026 voor € 12,50 of 30% `pip install` ```blok``` bij de KvK"
    )
    (sent,) = model_input(text)
    for span in (
        "@jan:localhost",
        "@piet",
        "https://x.org/a?b=1",
        "www.dia.eu",
        "a.b@c.nl",
        "👍",
        "#energie",
        "#room:server.org",
        "pip install",
        "blok",
        "KvK",
    ):
        assert span not in sent, span
    # Numbers, amounts, dates and times stay in the sentence.
    for span in ("10:30", "24-12-2026", "€ 12,50", "30%"):
        assert span in sent, span
    assert sent.startswith("Hoi X1 en X2, zie X3 of X4, mail X5 X6 X7 om 10:30")


def test_glossary_terms_come_back_in_the_target_language():
    text = "Wij zijn een BV, ingeschreven bij de KvK en lid van Ondernemend Emmen."
    assert model_input(text) == ["Wij zijn een X1, ingeschreven bij de X2 en lid van X3."]
    assert unchanged(text) == "Wij zijn een GmbH, ingeschreven bij de Handelsregister en lid van Ondernemend Emmen."
    # Whole words only: "BVB" is not the company form.
    assert model_input("De BVB speelt morgen.") == ["De BVB speelt morgen."]


def test_markers_glued_to_words_get_a_space_for_the_model_and_lose_it_again():
    (sentence,) = [p for p in plan("Dit is **heel** belangrijk!", None, "nl", "de") if isinstance(p, Sentence)]
    assert sentence.model_input == "Dit is X1 heel X2 belangrijk!"
    assert sentence.restore("Das ist X1 sehr X2 wichtig!") == "Das ist **sehr** wichtig!"


def test_emoji_at_the_ends_and_line_structure_stay_out_of_the_model():
    parts = plan("👍 Goed idee @jan 🎉\n- eerste punt\n1. tweede\n> citaat met **nadruk**", None, "nl", "de")
    kept = [p for p in parts if isinstance(p, str)]
    assert "👍 " in kept and " 🎉" in kept and "- " in kept and "1. " in kept and "> " in kept
    assert model_input("👍 Goed idee @jan 🎉\n- eerste punt\n1. tweede\n> citaat met **nadruk**") == [
        "Goed idee X1",
        "eerste punt",
        "tweede",
        "citaat met X1 nadruk X2",
    ]


def test_wordless_text_is_not_translated():
    assert model_input("👍 !!! 12:00 :-)") == []
    assert model_input("@jan: 10:30?") == []


def test_a_sentence_with_placeholder_like_words_uses_another_letter():
    assert model_input("De BMW X1 staat klaar voor @jan.") == ["De BMW X1 staat klaar voor Z1."]


def test_sentence_ends_inside_urls_do_not_cut_the_sentence():
    assert model_input("Zie https://x.org/a.b?c=1 en mail info@dia.eu. Daarna bellen!") == [
        "Zie X1 en mail X2.",
        "Daarna bellen!",
    ]


def test_piecewise_is_the_old_way_for_one_sentence():
    parts = piecewise("Ik heb gisteren 3 offertes gestuurd naar @katrin bij de BV", GLOSSARY, "de")
    assert [p.model_input for p in parts if isinstance(p, Sentence)] == [
        "Ik heb gisteren",
        "offertes gestuurd naar",
        "bij de",
    ]
    assert [p for p in parts if isinstance(p, str)] == [" ", "3", " ", " ", "@katrin", " ", " ", "GmbH"]


def test_split_pieces_roundtrip_without_glossary_terms():
    text = (
        "Hoi @jan:localhost, zie https://x.org/a?b=1 of mail a.b@c.nl 👍\n"
        "- punt **vet** `code` #energie om 10:30 op 24-12-2026"
    )
    assert "".join(p.text for p in split_pieces(text, None, "de")) == text
