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
