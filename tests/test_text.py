from kharita.text import is_heading, split_sentences

TEXT = (
    "Strikes hit the town of Saraqib on Monday. Dr. Hamid said three people died.\n"
    "Clashes resumed near Ariha, residents said! Were U.S. jets involved? No one knows.\n"
    "\n"
    "A heading without a full stop\n"
)


def sentences(text):
    return [text[s.start:s.end] for s in split_sentences(text)]


def test_sentences_are_exact_spans_of_the_text():
    assert sentences(TEXT) == [
        "Strikes hit the town of Saraqib on Monday.",
        "Dr. Hamid said three people died.",
        "Clashes resumed near Ariha, residents said!",
        "Were U.S. jets involved?",
        "No one knows.",
        "A heading without a full stop",
    ]


def test_every_line_is_its_own_paragraph():
    paragraphs = [s.paragraph for s in split_sentences(TEXT)]
    assert paragraphs == [0, 0, 1, 1, 1, 2]


def test_headings_are_short_unpunctuated_lines():
    found = split_sentences(TEXT)
    assert is_heading(TEXT, found[-1])
    assert not is_heading(TEXT, found[0])


def test_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []


def test_last_word_search_starts_late_without_changing_its_answer():
    """`_cuts` searches for the word before a full stop from the start of its run only;
    on random text that gives the same match as searching the whole stretch."""
    import random
    import re

    from kharita.text import _LAST_WORD, _last_run

    rng = random.Random(7)
    alphabet = "ab Z9_.!?\"')( ,é\u201d"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) + rng.choice(".!?")
        cursor = rng.randint(0, len(text) - 1)
        whole = re.search(_LAST_WORD.pattern, text[cursor:])
        late = _LAST_WORD.search(text, _last_run(text, cursor, len(text)), len(text))
        assert (whole and (cursor + whole.start(), whole.group(1))) == (late and (late.start(), late.group(1))), text


def test_mentions_by_sentence_are_those_within_each_sentence():
    import random

    from kharita.doc import Doc, Mention
    from kharita.models import Report

    doc = Doc(Report.create(TEXT))
    doc.sentences = split_sentences(TEXT)
    rng = random.Random(2)
    spans = [sorted((rng.randint(0, len(TEXT)), rng.randint(0, len(TEXT)))) for _ in range(300)]
    mentions = [Mention(a, b, TEXT[a:b]) for a, b in spans]
    assert doc.by_sentence(mentions) == [doc.within(mentions, s) for s in doc.sentences]
