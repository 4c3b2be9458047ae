"""Phrase matching: the one-pass and layered forms must match exactly what plain `find` does."""
import itertools
import random

from kharita import actors, casualties, control, health, tallies
from kharita.lexicon import LayeredMatcher, PhraseMatcher, preload_all

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
                 health._facility_matcher, casualties._patterns, casualties.running_total_cues]
    for factory in factories:
        factory.cache_clear()
    preload_all()
    assert all(factory.cache_info().currsize == 1 for factory in factories)
