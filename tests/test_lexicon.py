"""Phrase matching: the one-pass and layered forms must match exactly what plain `find` does."""
import itertools
import random

from kharita import actors, casualties, control, health, tallies
from kharita.lexicon import DictionarySet, LayeredMatcher, PhraseMatcher, expand, fold, preload_all

PHRASES = ["air strike", "air strikes", "strike", "rebel", "rebels", "rebel-held", "held by", "the army",
           "army", "u.s.", "al-nusra front", "front"]
PIECES = PHRASES + ["x", "-", " ", ". ", ",", "s", "\u2019", "Army", "AIR", "\n"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) + rng.choice(["", " ", " ", "-", "a"]) for _ in range(rng.randint(1, 12)))


def as_tuples(matches, shift=0):
    return [(m.start + shift, m.end + shift, m.value) for m in matches]


def test_find_in_spans_is_find_on_each_span():
    matcher = PhraseMatcher((phrase, i) for i, phrase in enumerate(PHRASES))
    rng = random.Random(11)
    for _ in range(3000):
        text = random_text(rng)
        cuts = sorted({0, len(text), *(rng.randint(0, len(text)) for _ in range(rng.randint(0, 4)))})
        # Spans with gaps between them (and sometimes none), cut anywhere, even inside words.
        spans = [(a + rng.randint(0, 1) if b - a > 1 else a, b) for a, b in itertools.pairwise(cuts)]
        expected = [as_tuples(matcher.find(text[a:b]), a) for a, b in spans]
        assert [as_tuples(found) for found in matcher.find_in_spans(text, spans)] == expected, (text, spans)


def test_layers_override_the_base_as_one_dictionary_would():
    base = [(phrase, f"base:{phrase}") for phrase in PHRASES]
    layers = {
        "north": [("rebels", "north:rebels"), ("the army", "north:army"), ("north front", "north:front")],
        "south": [("rebels", "south:rebels"), ("southern", "south:south"), ("front", "south:front")],
    }
    layered = LayeredMatcher(base, layers)
    rng = random.Random(5)
    pieces = PIECES + ["north front", "southern", "north"]
    for active in [(), ("north",), ("south",), ("north", "south"), ("south", "north")]:
        single = PhraseMatcher(base + [entry for name in active for entry in layers[name]])
        for _ in range(800):
            text = "".join(rng.choice(pieces) + rng.choice(["", " ", "-"]) for _ in range(rng.randint(1, 10)))
            assert as_tuples(layered.find(text, layers=active)) == as_tuples(single.find(text)), (text, active)


def test_a_layer_phrase_is_unknown_while_its_layer_is_not_in_use():
    layered = LayeredMatcher([("army", 1)], {"pack": [("militia", 2)]})
    assert as_tuples(layered.find("the militia and the army")) == [(20, 24, 1)]
    assert as_tuples(layered.find("the militia and the army", layers=("pack",))) == [(4, 11, 2), (20, 24, 1)]


def test_preload_builds_the_dictionaries_before_any_report():
    factories = [actors._dictionary, tallies._units, tallies._verbs, control._held_by_matcher,
                 health._phrases, casualties._patterns, casualties.running_total_cues]
    for factory in factories:
        factory.cache_clear()
    preload_all()
    assert all(factory.cache_info().currsize == 1 for factory in factories)


def test_a_dictionary_set_finds_what_each_dictionary_finds_alone():
    dictionaries = {
        "weapons": [("air {strike,strikes}", "air"), ("strike", "any"), ("u.s.", "state")],
        "actors": [("rebel", "r"), ("rebels", "r+"), ("the army", "a"), ("army", "a-"), ("air strike", "air?")],
        "empty": [],
    }
    together = DictionarySet(dictionaries)
    alone = {kind: PhraseMatcher(entries) for kind, entries in dictionaries.items()}
    rng = random.Random(7)
    for _ in range(2000):
        text = random_text(rng)
        found = together.find(fold(text))
        assert {kind: as_tuples(matches) for kind, matches in found.items()} == {
            kind: as_tuples(matcher.find(text)) for kind, matcher in alone.items()}, text


def test_fold_and_expand_as_their_plain_forms():
    """`fold` and `expand` take shortcuts; they must give what the plain forms give."""
    import re

    table = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u00a0": " "})
    rng = random.Random(3)
    chars = "aZ \u2019\u2018\u2010\u2011\u2013\u00a0\u0130\u00c9-.\n\t"
    for _ in range(3000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 12)))
        lowered = text.lower()
        if len(lowered) != len(text):
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        assert fold(text) == lowered.translate(table), repr(text)
    braces = re.compile(r"\{([^{}]*)\}")
    for pattern in ["air strike", "  air\tstrike ", "air {strike,strikes}", "{a,b} {c, d}", "x{,y}", "\u00a0a  b\u00a0"]:
        parts = braces.split(pattern)
        options = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
        plain = [re.sub(r"\s+", " ", "".join(combo)).strip() for combo in itertools.product(*options)]
        assert expand(pattern) == plain, pattern
