"""The `places` stage: place names in the text, resolved against the gazetteer.

Rules, not a statistical tagger: news prose capitalises names, and the words
around a name ("the town of X", "X Province", "Free X Army", "the X-to-Y
highway", "10 km west of X") say what it is. Per document:

1. Capitalised words are grouped into *runs* (with lower-case connectors: al-,
   el, ash, de, of ...), the units in which names are written.
2. Every sub-span of up to five tokens of a run is keyed
   (`kharita.names.name_key`) and all keys of the document are looked up in one
   query (cached by the gazetteer). Longest match wins. Runs with no exact
   match try their consonant skeleton, confirmed by a fuzzy ratio.
3. The run and its context classify a match: part of an organisation's name
   (role "affiliation"), of a road ("route"), a first-level unit ("region"), a
   person's name (dropped), or a location. Names the gazetteer lacks are kept
   (place=None) when the context says they are places ("the village of X",
   "X, north of Y", "towns like X and Y").
4. Same-name candidates are ranked by the report's focus (the countries and
   first-level units it names, nearness to its unambiguous places and counties,
   candidates of its other names lying near each other), then by feature class,
   capital status and population.
5. Relative expressions ("about 10 km west of X") set direction, distance and
   anchor on the mention they describe (geo_precision 2 when it is unknown to
   the gazetteer); with no such mention, the expression itself becomes a
   mention ("north of Hama city", place None, anchor Hama). `locate` turns a
   mention into coordinates with ACLED's geo_precision.

Also: US state abbreviations of news style ("Morgantown, W.Va.") name the
state; "St. Louis" is one name; a place naming an organisation or venue ("Dublin
City Council", "Paris Public Library") is an affiliation (kept when the name is
also used as a place, or is a country or large unit); surnames the report shows
to be people ("Matthew D. Flores", "Flores, 26,", "Andy Trapani") are no places;
with `demonyms=True`, "Syrian"/"Palestinians" become "demonym" mentions of their
country (the geoparsing corpora count them; the events stage ignores them).

Measured with `kharita eval geoparse` (2026-11-25, on ../shared/eval, not shipped;
F1 and accuracy at 161 km, all roles counted): LGL 0.71 / 0.854, GeoWebNews
0.761 / 0.891, GeoVirus 0.71 / 0.84. Most resolution errors left are local US
namesakes the article gives no other evidence for, and points that the
corpora's annotators put elsewhere (the EU, Canada, "New York" the state).
~430-600 reports/s on one core depending on the machine's load (2026-11-26); the most-named
governorate is FA-KES's coded one in 133/161 Syrian reports.

In a report about one country, a capital or a country standing for its government ("the
Damascus regime", "Moscow's support", "Washington announced", "US-led") is an affiliation; a
name whose entries all lie in countries the report never names stays unknown unless it is
well known; "Syrias Idlib" (a possessive that lost its apostrophe) is Syria's Idlib.

Context constrains resolution: a relative expression right after a name ("Adra east of
Damascus", "Al Maleh, north of Aleppo") rules out its entries far from the anchor or on its
other side (no entry left: unknown, tied to the anchor); a possessor ("Aleppo's X") holds X in
its province; an entry ruled out once (by these, or by "X neighbourhood in Y") is ruled out for
every mention of the name; a repeated unknown name takes the finest anchor any mention of it
has. "Rural X", "X countryside" and "the countryside of X" name the unit X (or the unit the
aliases file gives "Rural X": Rif Dimashq); "in X ISIS ..." is X then another name; a
title-case first sentence ("Army Advances in Latakia Kills 16.") is read as a headline.
"""
from __future__ import annotations

import bisect
import math
import re
import string
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise
from operator import attrgetter, itemgetter
from typing import Any

from .doc import Doc, Place, PlaceMention, Sentence
from .gazetteer import Gazetteer, default_gazetteer, demonym_country
from .lexicon import data_lines, load_data
from .names import (
    ARTICLES,
    FUZZY_THRESHOLD,
    FUZZY_THRESHOLD_IN_FOCUS,
    key_from_parts,
    key_parts,
    key_similarity,
    name_key,
    skeleton_key,
    split_solid_article,
)

__all__ = ["find_places", "locate", "demonym_country", "name_key", "skeleton_key"]

MAX_SPAN_TOKENS = 5
# Features located at ACLED geo_precision 3 (the region).
_COARSE_FEATURES = frozenset({"admin1", "admin2", "country", "continent"})

_CONNECTORS = frozenset(
    "al el il ul as es ash esh ech ad ed adh ar er at et ath az ez an en "
    "de del della di da du des la le les los las von van der den y of the and bin ibn bani "
    "abu um umm sur upon on am im".split()
)
# Articles that may open a name when hyphenated to a capitalised word: "al-Lataminah".
_LEADING_ARTICLES = frozenset("al el as es ash esh ad ed ar er at et az ez an en".split())
# Words at which an unknown run is cut into names: "Barzeh and Tishreen", "Assault on Qaboun".
_LIST_WORDS = frozenset("and or of the on upon y".split())
_DIRECTIONS = {
    "north": "north", "south": "south", "east": "east", "west": "west",
    "northeast": "northeast", "northwest": "northwest", "southeast": "southeast", "southwest": "southwest",
    "north-east": "northeast", "north-west": "northwest", "south-east": "southeast", "south-west": "southwest",
    "northern": "north", "southern": "south", "eastern": "east", "western": "west", "central": "centre",
    "northeastern": "northeast", "northwestern": "northwest", "southeastern": "southeast",
    "southwestern": "southwest", "north-eastern": "northeast", "north-western": "northwest",
    "south-eastern": "southeast", "south-western": "southwest",
}
# Capitalised only because they open a sentence: never a place, skipped before any look-up.
_FUNCTION_WORDS = frozenset(
    "a an the in on at by to of for from with and but or nor so yet if as he she it we they i you his her "
    "its our their my your this that these those there here then when where while what who whom whose "
    "which why how after before since until during despite although though because however also "
    "meanwhile moreover furthermore nevertheless instead only even just still both either neither each "
    "every all some many most few several no not one two three four five other another such".split())
_DIRECTION_ALT = "|".join(sorted(_DIRECTIONS, key=len, reverse=True))
_DIRECTION_WORDS = tuple(_DIRECTIONS)  # for str.endswith: a cheap test before `_direction_before`



def _connector_look_behinds(words: frozenset[str]) -> str:
    """Look-behinds finding one of `words` (a whole word: no word character before it) and then a
    separator right before the character just matched, one per word length (a look-behind has a
    fixed width), longest first, each capturing the word."""
    by_length: dict[int, list[str]] = defaultdict(list)
    for w in words:
        by_length[len(w)].append(w)
    return "|".join(r"(?<=(?<![\w'’‘ʿʾ`])(" + "|".join(sorted(ws)) + r")[ \-\u2010\u2011].)"
                    for _, ws in sorted(by_length.items(), reverse=True))


# Name tokens only, so that the common lower-case words cost nothing: words that do not start
# with an ASCII lower-case letter (checked for case in Python), and connectors followed by a
# capitalised word (a whole word). Every match opens with that first letter, so that the search
# skips from one such letter to the next (a test of two ranges per character; the letter's class
# is then checked behind it); a connector is found behind it too, in a group (`m.lastindex`),
# after a cheap test that a lower-case letter and a separator precede it.
_TOKEN = re.compile(
    r"[A-Z\u0080-\U0010FFFF](?<=[^\W\d_a-z])(?:(?<=[a-z][ \-\u2010\u2011].)(?:" + _connector_look_behinds(_CONNECTORS) + r"))?"
    r"(?:(?<=U)\.S\.(?:A\.)?|(?<=U)\.K\.|(?<![\w'’‘ʿʾ`].)[^\W\d_]*(?:['’‘ʿʾ`][^\W\d_]+)*)")
# Words that open a name when followed by ". ": "St. Louis", "Mt. Pleasant", "Ft. Worth".
_DOTTED_PREFIXES = frozenset("St Mt Ft Pt Ste".split())
_CONTRACTION = re.compile(r"['’](?:re|ll|ve|d|t|m)$", re.IGNORECASE)
_LOWER_WORDS = re.compile(r"(?<![\w'’-])[a-z][a-z]+(?![\w'’])")
_TITLE_BEFORE = re.compile(r"\b([A-Z][A-Za-z]*)\.?\s*$")

# --- relative expressions, matched on the text before a name ---------------------
_UNIT = r"(?:km|kms|kilometers?|kilometres?|miles?|mi|meters?|metres?|m)"
_DIR = r"(?:north-?east|north-?west|south-?east|south-?west|north|south|east|west)"
_NUM = (r"(\d+(?:[.,]\d+)?|a\s+few|a\s+couple\s+of|one|two|three|four|five|six|seven|eight|nine|ten|"
        r"fifteen|twenty|thirty|forty|fifty)")
_QUAL = (r"(?:(?:about|some|around|approximately|roughly|nearly|almost|at\s+least|less\s+than|more\s+than|"
         r"only|just|over|under|up\s+to)\s+)?")
_PLACE_OF = (r"(?:the\s+(?:[a-z-]+\s+)?(?:town|village|city|suburb|neighbou?rhood|district|area|camp|hamlet|"
             r"settlement|region|province|governorate)\s+of\s+)?")
_REL_DISTANCE = re.compile(
    r"\b" + _QUAL + _NUM + r"[\s-]*(" + _UNIT + r")(?:\s*\([^)]{0,25}\))?\s+(?:to\s+the\s+)?(" + _DIR
    + r")\s+of\s+" + _PLACE_OF + r"$", re.IGNORECASE)
_REL_DIRECTION = re.compile(r"\b(" + _DIR + r")\s+of\s+" + _PLACE_OF + r"$", re.IGNORECASE)
_REL_NEAR = re.compile(
    r"\b(near|nearby|outside|close\s+to|next\s+to|on\s+the\s+outskirts\s+of|in\s+the\s+vicinity\s+of|"
    r"on\s+the\s+edge\s+of)\s+" + _PLACE_OF + r"$", re.IGNORECASE)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
            "a few": 3, "a couple of": 2}
# After a name: "X, north of Y", "X, about 10 km west of Y".
_APPOSITION_REL = re.compile(r",\s+" + _QUAL + r"(?:" + _NUM + r"[\s-]*" + _UNIT + r"\s+)?" + _DIR + r"\s+of\s",
                             re.IGNORECASE)
# "The clinic was about 10 km west of X": a later sentence locating an earlier place.
_SUBJECT_REL = re.compile(
    r"\W*the\s+(?:[a-z-]+\s+)?(clinic|hospital|facility|town|village|city|suburb|camp|area|site|school|base|"
    r"airport|neighbou?rhood|district|market|bakery|mosque|building|hamlet|settlement|prison|station)\s+"
    r"(?:is|was|lies|lay|sits|sat|stands|stood|is\s+located|was\s+located|is\s+situated|was\s+situated)\s+",
    re.IGNORECASE)
_INSIDE_NEXT = re.compile(r"\s+in\s+(?:the\s+)?(?:" + _DIRECTION_ALT + r")\s+[A-Z]", re.IGNORECASE)
# Between a place and the unit holding it: "Ariha in Idlib province", "Wintersville, Ohio",
# "Ariha in the northern province of Idlib".
_IN_UNIT_GAP = re.compile(r",\s+|(?:\s+(?:neighbou?rhood|district|quarter|area|camp|suburb|village|town))?"
                          r"\s+in\s+(?:the\s+)?(?:(?:" + _DIRECTION_ALT + r")\s+)?"
                          r"(?:(?:province|governorate|region|countryside)\s+of\s+)?", re.IGNORECASE)
_DIRECTION_BEFORE = re.compile(r"\b(" + _DIRECTION_ALT + r")\s+$", re.IGNORECASE)
# Words one of which every match of a pattern ending in "$" holds (see `_search_before`).
_REL_DIRECTION_WORDS = ("north", "south", "east", "west")
_REL_NEAR_WORDS = ("near", "outside", "close", "next", "outskirts", "vicinity", "edge")

# --- other context ---------------------------------------------------------------
_LOCATIVE = frozenset("in at near from into outside around toward towards across through via inside within "
                      "besieged captured entered stormed shelled bombed bombarded struck hit seized took "
                      "recaptured retook reached surrounding encircled targeted".split())
_STRONG_PREP = frozenset("in at near into outside inside within besieged captured entered stormed shelled "
                         "bombed bombarded struck seized recaptured retook encircled".split())
_PLACE_NOUN_OF = re.compile(
    r"\b(town|towns|village|villages|city|suburb|suburbs|neighbou?rhoods?|district|districts|area|camp|"
    r"hamlet|settlement|region|province|governorate|outskirts|countryside|municipality|locality|enclave|"
    r"capital|port|island)\s+of\s+$",
    re.IGNORECASE)
_PLACE_NOUN_OF_WORDS = ("town", "village", "city", "suburb", "neighbo", "district", "area", "camp", "hamlet",
                        "settlement", "region", "province", "governorate", "outskirts", "countryside",
                        "municipality", "locality", "enclave", "capital", "port", "island")
_LIST_AFTER_NOUN = re.compile(
    r"(?:\b(nearby|neighbou?ring|surrounding|adjacent|close\s?by)\s+)?"
    r"\b(?:towns|villages|cities|suburbs|neighbou?rhoods|districts|areas|camps|places|localities)\s+"
    r"(?:like|such\s+as|including|of|namely)\s+$", re.IGNORECASE)
_LIST_AFTER_NOUN_WORDS = ("towns", "villages", "cities", "suburbs", "neighbo", "districts", "areas", "camps",
                          "places", "localities")


def _search_before(pattern: re.Pattern[str], words: tuple[str, ...], before: str) -> re.Match[str] | None:
    """`pattern.search(before)` for the case-insensitive patterns matched on the text before a
    name, which try every position of it: skipped when `before` is ASCII (where ignoring case is
    lower-casing) and holds none of `words`, one of which each of the pattern's matches holds."""
    if before.isascii():
        low = before.lower()
        for w in words:
            if w in low:
                break
        else:
            return None
    return pattern.search(before)
# Between a unit and an unknown place in it: "the Aleppo province village of X".
_UNIT_NOUN_OF = re.compile(
    r"(?:\s+(?:province|governorate|countryside|region|district|county))?(?:['’]s)?\s+(?:[a-z]+\s+)?"
    r"(?:town|village|city|suburb|hamlet|settlement|neighbou?rhood|district|area|camp)\s+of\s+", re.IGNORECASE)
_LIST_SEP = re.compile(r",\s*|\s+and\s+|,\s+and\s+|\s+or\s+")
_ADMIN_AFTER = re.compile(r"\s+(provinces?|governorates?|countryside|regions?|oblasts?)\b", re.IGNORECASE)
_MINOR_ADMIN_AFTER = re.compile(r"\s+(county|counties|district|districts|department|parish)\b", re.IGNORECASE)
_ADMIN_COORDINATED = re.compile(
    r"\s+(?:and|or)\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?\s+(?i:provinces|governorates|regions|oblasts)\b")
_CITY_AFTER = re.compile(r"\s+(city|town|village)\b", re.IGNORECASE)
_AREA_AFTER = re.compile(r"\s+(area|areas|district|suburb|neighbou?rhood|camp|outskirts|countryside|plain|valley)\b",
                         re.IGNORECASE)
_ROAD_NOUNS = r"(?:highway|road|motorway|expressway|freeway|route|railway|railroad|pipeline|corridor|supply\s+line)"
_ROAD_AFTER = re.compile(r"(?:-(?:to-)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)?\s+" + _ROAD_NOUNS + r"\b", re.IGNORECASE)
_ROAD_ONLY_AFTER = re.compile(r"\s+" + _ROAD_NOUNS + r"\b", re.IGNORECASE)
# The first words of the patterns above that follow a name after white space.
_AFTER_TRIGGERS = frozenset(
    "in and or province provinces governorate governorates countryside region regions oblast oblasts county "
    "counties district districts department parish city town village area areas suburb neighbourhood neighborhood "
    "camp outskirts plain valley highway road motorway expressway freeway route railway railroad pipeline "
    "corridor supply".split())
_WORD_AFTER_SPACE = re.compile(r"\s+(\w+)")
_HYPHEN_BEFORE = re.compile(r"[A-Z][\w'’]*-(?:to-)?$")
_ROAD_TO_BEFORE = re.compile(r"\broad\s+(?:from\s+[A-Z][\w'’-]*\s+)?to\s+$", re.IGNORECASE)
_COMMA_UNIT = re.compile(r",\s+[A-Z]")
_PRO_ANTI = re.compile(r"\b(?:pro|anti|ex|non)-$", re.IGNORECASE)
_DEMONYM_SHAPE = re.compile(r"\b[A-Z][a-z]+(?:ans?|is|ese|ish|i)\b")
# A language, not a people: "in Arabic", "speaks French", "English-language", "French speakers".
# ("in English." is the language, "in Syrian territory" not).
_LANGUAGE_USE = re.compile(r"(?i:\b(?:speaks?|spoke|speaking|learn|learning|taught|teach|teaching)\s+)"
                           r"(?:[A-Z][a-z]+(?:,\s+|\s+(?:and|or)\s+))?$")
_IN_LANGUAGE = re.compile(r"\b(?i:in|into)\s+$")
_NOUN_AFTER = re.compile(r" (?!and\b|or\b)[a-z]")
_LANGUAGE_AFTER = re.compile(r"[\s-](?:language|languages|speakers?|speaking|translation|subtitles|dubbed)\b",
                             re.IGNORECASE)


@dataclass(slots=True)
class _Tok:
    start: int
    end: int  # without a possessive 's
    text: str
    cap: bool
    possessive: bool
    state: str | None = None  # the US state an abbreviation stands for ("W.Va.")
    low: str = ""  # text.lower(), made once: every step compares lower-cased words


@dataclass(slots=True, eq=False)
class _Cand:
    """A span that may name a place, before resolution."""

    start: int
    end: int
    first: int  # token indices
    last: int
    key: str
    hits: tuple[tuple[Place, bool], ...] = ()
    fuzzy: bool = False
    role: str = "location"
    admin_cue: bool = False
    minor_admin_cue: bool = False
    city_cue: bool = False
    strong: bool = False  # the context says it is a place
    noun_cue: bool = False  # "the town of X"
    headline: bool = False
    weak: bool = False  # a one-word name that is also a common word, a given name, a demonym
    person: bool = False
    initial: bool = False
    prep: str | None = None
    direction_adj: str | None = None
    rel: tuple[int, str, float | None] | None = None  # (start of the expression, direction, km)
    place: Place | None = None
    mention: PlaceMention | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def _lexicon() -> dict[str, frozenset[str]]:
    return {k: frozenset(str(w).lower() for w in v) for k, v in load_data("places_lexicon.yaml").items()}


@cache
def _word_classes() -> dict[str, frozenset[str]]:
    """Unions of the lexicon's word lists that tests ask about together: one set look-up
    instead of a chain of them, for every word of every name."""
    lex, directions = _lexicon(), frozenset(_DIRECTIONS)
    return {
        # `_weak_single`: a one-word name that is also one of these words is weak.
        "weak": (lex["common_words"] | lex["given_names"] | lex["calendar_words"] | lex["org_suffixes"]
                 | lex["admin_suffixes"] | lex["city_suffixes"] | lex["minor_admin_suffixes"] | directions),
        # `_unmatched`: leading words that are no part of a name, trailing kinds of place, and
        # names made only of plain words.
        "plain_lead": lex["common_words"] | directions,
        "kinds": lex["city_suffixes"] | lex["admin_suffixes"] | lex["minor_admin_suffixes"],
        "plain": lex["common_words"] | directions | lex["place_nouns"],
        # `_classify_run`: words before a place that leave it a place, and words after it
        # naming its kind.
        "context_lead": (directions | lex["common_words"] | lex["place_nouns"] | lex["org_prefixes"]
                         | lex["org_suffixes"] | lex["rural_prefixes"]),
        "kind_trail": (lex["admin_suffixes"] | lex["city_suffixes"] | lex["site_suffixes"]
                       | lex["minor_admin_suffixes"] | directions),
        # `_common_noun`.
        "common_nouns": (lex["common_words"] | lex["org_suffixes"] | lex["facility_words"] | lex["place_nouns"]
                         | lex["titles"]),
    }


@cache
def _demonym_forms() -> tuple[frozenset[str], frozenset[str]]:
    """The one-word forms `demonym_country` knows (with plurals), and first words of two-word ones."""
    forms: set[str] = set()
    firsts: set[str] = set()
    for row in data_lines("demonyms.tsv"):
        d = row[0].lower()
        words = d.split()
        if len(words) > 1:
            firsts.add(words[0])
            continue
        forms.update((d, d + "s"))
        if d.endswith("man"):
            forms.add(d[:-3] + "men")
    return frozenset(forms), frozenset(firsts)


@cache
def _continent_demonyms() -> dict[str, str]:
    """"european" -> "Europe", "latin american" -> "South America" ("" for no continent: "central american")."""
    return {k.lower(): v or "" for k, v in load_data("places_lexicon.yaml")["continent_demonyms"].items()}


@cache
def _continent_demonym_firsts() -> frozenset[str]:
    """First words of the continent demonyms, singular and plural: a cheap filter."""
    firsts = {k.split()[0] for k in _continent_demonyms()}
    return frozenset(firsts | {w + "s" for w in firsts})


@cache
def _state_abbreviations() -> tuple[dict[str, str], re.Pattern[str]]:
    """"w.va." -> "West Virginia", and a pattern finding the abbreviations (with or without inner spaces)."""
    abbreviations = load_data("places_lexicon.yaml")["us_state_abbreviations"]
    table = {k.replace(" ", "").lower(): v for k, v in abbreviations.items()}
    # One to three dotted parts ("Ind.", "W. Va.", "N.Mex."), checked against the table. The
    # capital comes before the look-behind (same matches) so that the search skips to capitals.
    return table, re.compile(r"[A-Z](?<![\w.].)[a-z]{0,4}\.(?:\s?[A-Z][a-z]{0,3}\.){0,2}(?!\w)")


# ---------------------------------------------------------------------------
# Tokens and runs
# ---------------------------------------------------------------------------

def _tokens(text: str) -> list[_Tok]:
    """The name tokens: capitalised words and connectors (other words only separate them)."""
    out = []
    abbrev: dict[int, tuple[int, str]] = {}
    if "." in text:
        table, pattern = _state_abbreviations()
        for m in pattern.finditer(text):
            w = m.group()
            if w.replace(" ", "").lower() not in table:
                continue
            before = text[max(0, m.start() - 2):m.start()]
            if w.count(".") > 1 or before == ", " or before.endswith("-"):
                abbrev[m.start()] = (m.end(), table[w.replace(" ", "").lower()])
    skip_to = 0
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        if m.lastindex:  # a connector before the word: "al-Sham", "Bosnia and Herzegovina"
            a, b = m.span(m.lastindex)
            if a >= skip_to:
                w = text[a:b]
                out.append(_Tok(a, b, w, False, False, None, w))
        if start < skip_to:
            continue
        if abbrev and start in abbrev:
            end, state = abbrev[start]
            w = text[start:end]
            out.append(_Tok(start, end, w, True, False, state, w.lower()))
            skip_to = end
            continue
        w = m.group()
        if not w[0].isupper():
            continue  # a word starting with a non-ASCII lower-case letter
        lw = w.lower()
        if lw in _FUNCTION_WORDS and text[end:end + 1] != "-":
            continue  # "The", "In": capitalised by position (the gap also ends a run)
        if "'" in w or "’" in w:
            if _CONTRACTION.search(w):
                continue  # We're, It'll
            if len(w) > 3 and w[-1] in "sS" and w[-2] in "'’":
                out.append(_Tok(start, end - 2, w[:-2], True, True, None, w[:-2].lower()))
                continue
        out.append(_Tok(start, end, w, True, False, None, lw))
    return out


def _joined(text: str, a: _Tok, b: _Tok) -> bool:
    """Whether two consecutive name tokens can belong to one name."""
    if a.possessive:
        return b.start == a.end + 3 and text[a.end + 2] == " "
    if a.state or b.state:
        return False
    sep = text[a.end:b.start]
    if sep == ". " and a.text in _DOTTED_PREFIXES:
        return True  # "St. Louis"
    return sep == " " or sep == "-" or sep == "\u2011" or sep == "\u2010"


def _runs(text: str, toks: list[_Tok]) -> list[tuple[int, int]]:
    """Maximal sequences of name tokens that start and end with a capitalised word."""
    runs = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        startable = t.cap or (t.text in _LEADING_ARTICLES and i + 1 < n and toks[i + 1].cap
                              and text[t.end:toks[i + 1].start] == "-")
        if not startable:
            i += 1
            continue
        j, last_cap = i, (i if t.cap else -1)
        # (Tokens more than three characters apart are never joined: a cheap test first.)
        while j + 1 < n and toks[j + 1].start - toks[j].end <= 3 and _joined(text, toks[j], toks[j + 1]):
            j += 1
            if toks[j].cap:
                last_cap = j
        if last_cap >= i:
            runs.append((i, last_cap))
            i = last_cap + 1
        else:
            i = j + 1
    return runs


# ---------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------

class _LowerWords(dict):
    """The words written in lower case somewhere in a text (whole words of two or more ASCII
    letters, as `_LOWER_WORDS` finds them). A report asks about a few dozen words: each is
    looked for when first asked, rather than collecting every word of the text up front.
    Ask `lower_words[word]` (a dict look-up, the answer kept), or `word in lower_words`."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, word: str) -> bool:
        hit = self[word] = isinstance(word, str) and _written_lower(self.text, word)
        return hit

    def __contains__(self, word: object) -> bool:
        return self[word]  # type: ignore[index]


def _written_lower(text: str, word: str) -> bool:
    """Whether `_LOWER_WORDS` matches `word` somewhere in `text`."""
    if len(word) < 2 or not (word.isascii() and word.isalpha() and word.islower()):
        return False
    n, size = len(word), len(text)
    i = text.find(word)
    while i >= 0:
        before = text[i - 1] if i else " "
        after = text[i + n] if i + n < size else " "
        if not (before.isalnum() or before in "_'’-") and not (after.isalnum() or after in "_'’"):
            return True
        i = text.find(word, i + 1)
    return False


class _Ctx:
    """Per-document state shared by the steps."""

    __slots__ = ("text", "toks", "lex", "lower_words", "starts", "headlines", "headline_starts", "person_words",
                 "sentences", "capitals", "titled", "ampersand")

    def __init__(self, doc: Doc, text: str, toks: list[_Tok]) -> None:
        self.text = text
        self.toks = toks
        self.lex = _lexicon()
        self.lower_words = _LowerWords(text)
        self.starts, self.headlines = _sentence_info(doc.sentences, text)
        self.headline_starts = [a for a, _ in self.headlines]
        self.person_words: set[str] = _person_words(text, toks, self.lex)
        self.sentences = sorted(self.starts)  # the starts hold the sentences' own
        self.capitals: frozenset[int] = frozenset()
        self.titled: dict[int, bool] = {}  # `_person_before`, by position
        self.ampersand = "&" in text  # `_verdict`: "Procter & Gamble"

    def in_headline(self, pos: int) -> bool:
        i = bisect.bisect_right(self.headline_starts, pos) - 1  # headlines are lines: in order, disjoint
        return i >= 0 and pos < self.headlines[i][1]

    def sentence_initial(self, pos: int) -> bool:
        k = pos
        while k > 0 and self.text[k - 1] in "\"'“‘(«[ ":
            k -= 1
        return k in self.starts or k == 0

    def sentence_start(self, pos: int, back: int = 0) -> int:
        """Start of the sentence holding `pos` (a line counts as one), or of the `back`-th before it."""
        i = max(0, bisect.bisect_right(self.sentences, pos) - 1 - back)
        return self.sentences[i] if self.sentences else 0


def find_places(doc: Doc, gazetteer: Gazetteer | None = None, *, demonyms: bool = False) -> None:
    """Append the place mentions of `doc` to `doc.places`, in text order.

    With `demonyms`, country adjectives and demonyms ("Syrian", "Palestinians") outside
    other names are added too, as mentions of their country with role "demonym": the
    geoparsing corpora count them as toponyms, the events stage never takes them.
    """
    text = doc.text
    if not text:
        return
    toks = _tokens(text)
    if not toks:
        return
    gaz = gazetteer or default_gazetteer()
    ctx = _Ctx(doc, text, toks)
    ctx.capitals = gaz.capitals()
    found_places = _find(ctx, gaz)
    if demonyms:
        found_places = _with_demonyms(ctx, gaz, found_places)
    doc.places.extend(found_places)


@lru_cache(maxsize=100_000)
def _word_key(word: str) -> str:
    """`name_key` of one name token (through its parts, as spans of several tokens are keyed)."""
    return key_from_parts(key_parts(word))


@lru_cache(maxsize=100_000)
def _word_parts(word: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], str | None]:
    """A name token's `key_parts`, their key forms but for articles, and the token with a solid
    article split off (`split_solid_article`; None for none), as spans of several tokens use them."""
    parts = key_parts(word)
    solid = split_solid_article(word) if len(word) > 4 and word[0] in "AaEe" else None
    return parts, tuple(k for w, k in parts if w not in ARTICLES), solid


def _find(ctx: _Ctx, gaz: Gazetteer) -> list[PlaceMention]:
    text, toks = ctx.text, ctx.toks
    runs = _runs(text, toks)

    # 1. Keys of every sub-span of every run, looked up at once.
    options: list[dict[tuple[int, int], str]] = []
    keys: set[str] = set()
    state_keys: dict[str, str] = {}
    variants: dict[tuple[int, int], str] = {}  # span -> its key with a solid article split off ("Deir Ezzor")
    for a, b in runs:
        if a == b and not toks[a].state:  # most runs are one word: its key alone
            t = toks[a]
            k = _word_key(t.text)
            if k:
                options.append({(a, a): k})
                keys.add(k)
                if t.text.endswith("s") and len(t.text) > 4 and not t.possessive:
                    keys.add(k[:-1])  # "Syrias (Idlib)": a possessive that lost its apostrophe
            else:
                options.append({})
            continue
        opts: dict[tuple[int, int], str] = {}
        # Each token's parts, their key forms but for articles, and its solid-article split.
        infos = [_word_parts(toks[j].text) for j in range(a, b + 1)]
        split = {j: w for j in range(a + 1, b + 1) if toks[j].cap and (w := infos[j - a][2])}
        for i in range(a, b + 1):
            if not toks[i].cap and i != a:
                continue
            if toks[i].state:
                k = "\x00" + toks[i].state  # looked up below, as the state itself
                opts[(i, i)] = k
                state_keys[k] = toks[i].state
                continue
            # The key of a span from its tokens' parts (the gaps are separators), but for a
            # possessive inside it ("Hama's Healthcare": the key keeps the s). `kept` grows
            # with the span: `key_from_parts` of the span's parts is its join, unless it is
            # empty (a span of articles).
            kept: list[str] = []
            broken = False  # a possessive inside the span
            for j in range(i, min(b, i + MAX_SPAN_TOKENS - 1) + 1):
                if j > i and toks[j - 1].possessive:
                    broken = True
                if not broken:
                    kept.extend(infos[j - a][1])
                if toks[j].cap:
                    if broken:
                        k = name_key(text[toks[i].start:toks[j].end])
                    elif kept:
                        k = " ".join(kept)
                    else:
                        k = key_from_parts([p for x in range(i, j + 1) for p in infos[x - a][0]])
                    if k:
                        opts[(i, j)] = k
                        keys.add(k)
                        if split and not broken and any(i < x <= j for x in split):
                            v = name_key(" ".join(split.get(x, toks[x].text) for x in range(i, j + 1)))
                            if v and v != k:
                                variants[(i, j)] = v
                                keys.add(v)
        options.append(opts)
        for i in range(a, b + 1):
            t = toks[i]
            if t.cap and t.text.endswith("s") and len(t.text) > 4 and not t.possessive and (i, i) in opts:
                keys.add(opts[(i, i)][:-1])  # "Syrias (Idlib)": a possessive that lost its apostrophe
    found = gaz.lookup_keys(keys)
    for span, v in variants.items():
        r_opts = next(o for (a, b), o in zip(runs, options) if a <= span[0] <= b)
        if not found.get(r_opts[span]) and found.get(v):
            r_opts[span] = v
    # (Only a word whose own key is unknown and whose key less its final s is known can be
    # split: most reports have none, and the walk over every run is skipped.)
    glued = {k for k in keys if k.endswith("s") and not found[k] and found.get(k[:-1])}
    if glued:
        runs, options = _split_glued_possessives(toks, runs, options, found, glued)
    for k, state in state_keys.items():
        unit = gaz.admin1("US", state)
        found[k] = ((unit, True),) if unit is not None else ()

    # Arabic names with an article that match only in parts ("Bosra al-Sham": "Bosra", and
    # "al-Sham" as a name of Damascus) are first tried whole on their skeleton.
    whole: dict[int, _Cand] = {}
    for r, ((a, b), opts) in enumerate(zip(runs, options)):
        k = opts.get((a, b))
        if b > a and k and not found.get(k) and any(
                not toks[i].cap and toks[i].text in _LEADING_ARTICLES for i in range(a, b + 1)):
            whole[r] = _Cand(toks[a].start, toks[b].end, a, b, k, extra={"whole": True})
    if whole:
        _fuzzy(gaz, list(whole.values()))

    # 2. Longest match, left to right, within each run; then what the run says about it.
    cands: list[_Cand] = []
    unmatched: list[tuple[int, int]] = []
    for r, ((a, b), opts) in enumerate(zip(runs, options)):
        w = whole.get(r)
        if w is not None and w.hits and max(w.extra["score"].values()) >= 85.0:
            _classify_run(ctx, (a, b), [w], cands, unmatched)
            continue
        if a == b and toks[a].cap:  # most runs are one word: the loops below, unrolled for it
            k = opts.get((a, a))
            if k and found.get(k):
                c = _Cand(toks[a].start, toks[a].end, a, a, k, found[k])
                c.weak = _weak_single(ctx, c)
                word = toks[a].text
                if not ((len(word) <= 2 and not word.isupper()) or word.lower() in ctx.lex["titles"]):
                    _classify_word(ctx, c, cands)
                    continue
            unmatched.append((a, a))
            continue
        matched: list[_Cand] = []
        i = a
        while i <= b:
            for j in range(min(b, i + MAX_SPAN_TOKENS - 1), i - 1, -1):
                k = opts.get((i, j))
                if k and found.get(k):
                    c = _Cand(toks[i].start, toks[j].end, i, j, k, found[k])
                    c.weak = _weak_single(ctx, c)
                    break
            else:
                i += 1
                continue
            word = toks[i].text
            if i == j and ((len(word) <= 2 and not word.isupper()) or word.lower() in ctx.lex["titles"]
                           or (b > a and c.weak)):
                i += 1  # "Free" in "Free Idlib Army", "Dr": context words, not places
                continue
            matched.append(c)
            i = j + 1
        # Cut the run at list words outside the matches: "Gainesville on March", "Barzeh and
        # Tishreen", "University of Florida" are two names each, "Bosnia and Herzegovina" one.
        covered = {t for c in matched for t in range(c.first, c.last + 1)} if b > a else ()
        seg_start, prev_seg = a, None
        for i in range(a, b + 2):
            if i <= b and (toks[i].text not in _LIST_WORDS or i in covered):
                continue
            sa, sb = seg_start, i - 1
            while sa <= sb and not toks[sa].cap and not (
                    toks[sa].text in _LEADING_ARTICLES and sa < sb and toks[sa + 1].cap):
                sa += 1
            while sb >= sa and not toks[sb].cap:
                sb -= 1
            if sa <= sb:
                seg = [c for c in matched if sa <= c.first and c.last <= sb]
                after_of = prev_seg is not None and toks[sa - 1].text == "of" if sa > a else False
                if seg:
                    _classify_run(ctx, (sa, sb), seg, cands, unmatched, after_of=after_of and prev_seg)
                else:
                    unmatched.append((sa, sb))
                prev_seg = (sa, sb)
            seg_start = i + 1

    # 3. Runs with no exact match: the skeleton look-up, or unknown places if the context says so.
    loose: list[_Cand] = []
    for a, b in unmatched:
        c = _unmatched(ctx, a, b)
        if c is not None:
            loose.append(c)
    if loose:
        # Only names whose context may vouch for a close spelling need the skeleton look-up
        # (`_verdict` keeps a fuzzy match only with such a cue).
        _fuzzy(gaz, [c for c in loose if _may_be_cued(ctx, c)])
        cands.extend(loose)
    if not cands:
        return []
    cands.sort(key=lambda c: c.start)
    for c in cands:
        _context(ctx, c)
    for x, y in zip(cands, cands[1:]):
        # "brokered by Moscow and Washington": a capital listed with one standing for its government.
        if x.extra.get("metonymy") and y.role == "location" and _LIST_SEP.fullmatch(text, x.end, y.start) and (any(
                p.feature == "country" for p, _ in y.hits) or _metonymic_capital(ctx, y)):
            y.role = "affiliation"
            y.extra["metonymy"] = True
    _cue_lists(ctx, cands)
    cands = _resolve(gaz, ctx, cands)
    return _mentions(ctx, cands)


def _split_glued_possessives(toks: list[_Tok], runs: list[tuple[int, int]],
                             options: list[dict[tuple[int, int], str]], found: dict[str, tuple],
                             glued: set[str]) -> tuple[list[tuple[int, int]], list[dict[tuple[int, int], str]]]:
    """Runs opening with a possessive whose apostrophe was lost ("Syrias Idlib", "Syrias"):
    the possessor (a country, a first-level unit or a city of 100,000) becomes a run of its
    own, and what follows another, as with "Syria's Idlib". Only where the word as written,
    and no longer name starting with it, is known. `glued`: the keys that may be such words
    (unknown, ending in s, known without it); runs with none of them stay as they are."""
    out_runs, out_opts = [], []
    for (a, b), opts in zip(runs, options):
        if opts.get((a, a)) not in glued if a == b else not any(opts.get((i, i)) in glued for i in range(a, b + 1)):
            out_runs.append((a, b))
            out_opts.append(opts)
            continue
        start = a
        for i in range(a, b + 1):
            key = opts.get((i, i))
            if not key or not key.endswith("s") or found.get(key) or key[:-1] not in found or any(
                    found.get(opts.get((h, j), "")) for h in range(start, i + 1) for j in range(i, b + 1)
                    if (h, j) != (i, i)):  # "St. Marys" is a name
                continue
            stem = key[:-1]
            if any(p.feature in ("country", "admin1") or p.population >= 100_000 for p, _ in found[stem]):
                toks[i].possessive = True
                out_runs.append((start, i))
                part = {span: k for span, k in opts.items() if start <= span[0] and span[1] < i}
                part[(i, i)] = stem
                out_opts.append(part)
                start = i + 1
        if start <= b:
            out_runs.append((start, b))
            out_opts.append({span: k for span, k in opts.items() if span[0] >= start} if start > a else opts)
    return out_runs, out_opts


_CUE_BEFORE = _LOCATIVE | _STRONG_PREP | frozenset(
    "of near nearby outside to and or the like as including namely towards toward".split())
_CUE_AFTER = re.compile(r"\s*,|\s+(?:in|and|or)\s|[\s-]+(?:" + "|".join(
    "provinces? governorates? countryside regions? oblasts? county counties districts? department parish city "
    "town village area areas suburb neighbou?rhood camp outskirts plain valley".split()) + r")\b", re.IGNORECASE)


def _may_be_cued(ctx: _Ctx, c: _Cand) -> bool:
    """A cheap superset of the contexts `_context`, `_cue_lists` and `_resolve` count as cues."""
    if c.headline or c.extra.get("whole") or (c.first and ctx.toks[c.first - 1].possessive):
        return True
    before = ctx.text[max(0, c.start - 30):c.start].rstrip()
    if not before or before[-1] in ",;:(":
        return True
    last = before.rsplit(None, 1)[-1].lower()
    return last in _CUE_BEFORE or bool(_CUE_AFTER.match(ctx.text, c.end))


def _with_demonyms(ctx: _Ctx, gaz: Gazetteer, mentions: list[PlaceMention]) -> list[PlaceMention]:
    """`mentions` plus a "demonym" mention of its country for each demonym outside them."""
    text, toks = ctx.text, ctx.toks
    taken = sorted((m.start, m.end) for m in mentions)
    starts = [a for a, _ in taken]
    extra: list[PlaceMention] = []
    i, n = 0, len(toks)
    forms, firsts = _demonym_forms()
    continents = _continent_demonyms()
    continent_firsts = _continent_demonym_firsts()
    openers = _demonym_openers()
    while i < n:
        t = toks[i]
        lw = t.low
        if lw not in openers:  # most words open no demonym: the tests below, short-cut
            i += 1
            continue
        span, cc = None, None
        continent = _continent_demonym(text, toks, i, continents) if lw in continent_firsts else None
        if continent is not None:
            span, name = continent
            i += 1 if span[1] == t.end else 2
            place = next((p for p in gaz.lookup(name) if p.feature == "continent"), None) if name else None
            k = bisect.bisect_right(starts, span[0]) - 1
            inside = (k >= 0 and taken[k][1] > span[0]) or (k + 1 < len(taken) and taken[k + 1][0] < span[1])
            if place is not None and not inside:
                extra.append(PlaceMention(span[0], span[1], text[span[0]:span[1]], place=place, candidates=[place],
                                          role="demonym", geo_precision=3))
            continue
        if lw in firsts and i + 1 < n and toks[i + 1].cap and text[t.end:toks[i + 1].start] == " ":
            cc = demonym_country(text[t.start:toks[i + 1].end])  # "Sri Lankan", "North Korean"
            if cc:
                span = (t.start, toks[i + 1].end)
        if span is None and lw in forms and t.cap and len(t.text) > 3:
            cc = demonym_country(t.text)
            if cc:
                span = (t.start, t.end)
        i += 1 if span is None or span[1] == t.end else 2
        if span is None or _LANGUAGE_USE.search(text, max(0, span[0] - 30), span[0]) or \
                _LANGUAGE_AFTER.match(text, span[1]) or (
                _IN_LANGUAGE.search(text, max(0, span[0] - 6), span[0]) and not _NOUN_AFTER.match(text, span[1])):
            continue
        if text[span[0]:span[1]].lower() in ctx.person_words or _SPEECH_AFTER.match(text, span[1]):
            continue  # "Monica French said"
        k = bisect.bisect_right(starts, span[0]) - 1
        if (k >= 0 and taken[k][1] > span[0]) or (k + 1 < len(taken) and taken[k + 1][0] < span[1]):
            continue  # inside a name found already
        try:
            country = gaz.country(cc)
        except KeyError:
            continue
        extra.append(PlaceMention(span[0], span[1], text[span[0]:span[1]], place=country, candidates=[country],
                                  role="demonym", geo_precision=3))
    if not extra:
        return mentions
    return sorted(mentions + extra, key=lambda m: (m.start, -m.end))


@cache
def _demonym_openers() -> frozenset[str]:
    """The words (lower-cased) at which `_with_demonyms` may find a demonym: any other word is
    skipped by all of its tests."""
    forms, firsts = _demonym_forms()
    return forms | firsts | _continent_demonym_firsts()


def _continent_demonym(text: str, toks: list[_Tok], i: int, table: dict[str, str]
                       ) -> tuple[tuple[int, int], str] | None:
    """((start, end), continent name) of a continent's demonym at token i ("Europeans", "Latin American")."""
    t = toks[i]
    if not t.cap:
        return None
    if i + 1 < len(toks) and toks[i + 1].cap and text[t.end:toks[i + 1].start] == " ":
        two = f"{t.text} {toks[i + 1].text}".lower()
        for form in (two, two[:-1] if two.endswith("s") else ""):
            if form in table:
                return (t.start, toks[i + 1].end), table[form]
    lw = t.low
    for form in (lw, lw[:-1] if lw.endswith("s") else ""):
        if form in table and " " not in form:
            return (t.start, t.end), table[form]
    return None


_LONG_WORD = re.compile(r"[A-Za-z][a-z]{3,}")
_LONG_CAP_WORD = re.compile(r"[A-Z][a-z]{3,}")
# Where `_LONG_WORD` finds a word that is not `_LONG_CAP_WORD`'s (four lower-case letters after
# no letter): a sentence holding one has long words not all capitalised.
_LONG_LOWER_WORD = re.compile(r"(?<![A-Za-z])[a-z]{4}")


def _sentence_info(sentences: list[Sentence], text: str) -> tuple[set[int], list[tuple[int, int]]]:
    """Sentence (and line) starts, and the spans of title-case lines: headlines and captions."""
    sentence_starts = list(map(attrgetter("start"), sentences))
    starts = set(sentence_starts)
    ends = dict(zip(sentence_starts, map(attrgetter("end"), sentences)))
    headlines = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            first = pos + len(line) - len(line.lstrip())
            starts.add(first)
            # A line ending as a sentence does is no headline: most lines need no word count.
            if stripped.endswith((".", "?", "!", ".”", '."')):
                # But its first sentence may be a headline glued to the body with a full stop
                # ("Army Advances in Latakia Kills 16 Fighters. The army..."): every long word capitalised.
                end = ends.get(first)
                if end is not None and end < pos + len(line) and _LONG_LOWER_WORD.search(text, first, end) is None:
                    words = _LONG_WORD.findall(text, first, end)
                    if len(words) >= 4 and len(_LONG_CAP_WORD.findall(text, first, end)) == len(words):
                        headlines.append((first, end))
            else:
                words = len(_LONG_WORD.findall(stripped))
                if words >= 3:
                    # The capitalised ones among those words (a capital only ever opens such a word).
                    if len(_LONG_CAP_WORD.findall(stripped)) >= 0.6 * words:
                        headlines.append((pos, pos + len(line)))
                elif len(stripped) < 60 and not stripped.endswith(":"):
                    headlines.append((pos, pos + len(line)))
        pos += len(line) + 1
    return starts, headlines


_AMPERSAND_AFTER = re.compile(r"\s?&\s?[A-Z]")
_AMPERSAND_BEFORE = re.compile(r"[A-Z][\w'’]*\s?&\s?$")
_NEXT_WORD = re.compile(r"\s+(\w+)")
_SPEECH_AFTER = re.compile(r" (?:said|says|told|added|explained|noted|asked)\b")
_COUNTRY_CODES = frozenset({"us", "uk", "usa", "uae", "drc", "eu"})  # capitalised abbreviations that are places
_DESIGNATION_AFTER = re.compile(r" (?:No\.? ?)?\d+[A-Z]{0,3}\b(?![,.:/]\d)")
_AGE_AFTER = re.compile(r",\s+\d{1,3},\s")
_SAID = ("said ", "says ", "according to ")
_SAID_STOPS = frozenset(".,;")  # what ends the name a speech verb introduces: "said Flores."


def _person_words(text: str, toks: list[_Tok], lex: dict[str, frozenset[str]]) -> set[str]:
    """Words the report uses as a person's name: "Matthew D. Flores", "Flores, 26,", "said
    Flores.", "Andy Trapani" (not "Sam Houston State University"; and "Tbilisi says" is
    metonymy, no person). A place of that name named alone is then the person."""
    words: set[str] = set()
    given = lex["given_names"]
    n = len(toks)
    prev: _Tok | None = None
    for i, t in enumerate(toks):
        before, prev = prev, t
        if not t.cap or t.state:
            continue
        w = t.text
        if len(w) == 1:  # an initial: the next word is a surname
            if 0 < i < n - 1 and text[t.end:t.end + 1] == "." and toks[i - 1].cap and \
                    text[toks[i - 1].end:t.start] in (" ", ". ") and toks[i + 1].start - t.end <= 2:
                nxt = toks[i + 1].text
                if len(nxt) > 1 and nxt[1].islower():
                    words.add(nxt.lower())
            continue
        if not w[1].islower():
            continue
        end = t.end
        after = text[end:end + 1]
        if after == "," and _AGE_AFTER.match(text, end):
            words.add(t.low)
        elif after in _SAID_STOPS and text.endswith(_SAID, 0, t.start):
            words.add(t.low)
        elif before is not None and before.cap and before.low in given and text[before.end:t.start] == " " \
                and t.low not in given and not (i + 1 < n and toks[i + 1].cap and text[end:toks[i + 1].start] == " "):
            words.add(t.low)
    return words


def _weak_single(ctx: _Ctx, c: _Cand) -> bool:
    """A one-word name that is also a common word, a given name or a demonym ("White House" too)."""
    if c.last != c.first:
        # "White House", not "Rock Hill" or "Little Rock": towns of that name are well known.
        words = [t.low for t in ctx.toks[c.first:c.last + 1] if t.cap]
        return all(w in ctx.lex["common_words"] or w in _DIRECTIONS for w in words) and not _hit_facts(
            c.hits).known_main
    t = ctx.toks[c.first]
    weakness = _word_weakness(t.text)
    if weakness == _EXEMPT:
        return False  # "US forces", though "us" is a common word
    return weakness == _WEAK_WORD or ctx.lower_words[t.low] or weakness == _WEAK_FORM


_EXEMPT, _WEAK_WORD, _WEAK_FORM, _WEAK_IF_LOWER = range(4)  # answers of `_word_weakness`


@lru_cache(maxsize=100_000)
def _word_weakness(w: str) -> int:
    """What `_weak_single` asks of a one-word name but whether it is written in lower case
    elsewhere: a country's abbreviation (_EXEMPT: never weak), a word of the weak lexicons
    (_WEAK_WORD), an acronym of three letters or fewer or a demonym (_WEAK_FORM: weak, after
    the lower-case test), else _WEAK_IF_LOWER. (An int: no object kept per word.)"""
    lw = w.lower()
    if w.isupper() and lw in _COUNTRY_CODES:
        return _EXEMPT
    if lw in _word_classes()["weak"]:
        return _WEAK_WORD
    # Of words of letters only, `demonym_country` knows those `_demonym_forms` lists.
    if (w.isupper() and len(w) <= 3) or (
            (lw in _demonym_forms()[0] or not w.isalpha()) and demonym_country(w) is not None):
        return _WEAK_FORM
    return _WEAK_IF_LOWER


def _common_noun(ctx: _Ctx, w: str) -> bool:
    """A capitalised word (lower-cased) that is a common word: written in lower case elsewhere in
    the report, or a word of the lexicons ("Public", "Library", "Council", "Mayor")."""
    return ctx.lower_words[w] or w in _word_classes()["common_nouns"]


_ASCII_LETTERS = string.ascii_letters


def _word_before(before: str, dot: bool = False) -> str:
    """The word `before` ends with, followed by white space (and, with `dot`, maybe a full stop):
    "north" in "... north ", "Dr" in "Dr. ", "President" in "Vice-President "; "" if none."""
    end = len(before.rstrip())  # (str.rstrip strips what str.isspace calls white space)
    if dot and end and before[end - 1] == ".":
        end -= 1
    elif end == len(before):
        return ""  # the word must be followed by white space
    # The letters before `end`: the ASCII ones in C, then any others one by one.
    start = len(before[:end].rstrip(_ASCII_LETTERS))
    while start and before[start - 1].isalpha():
        start -= 1
    if start and (before[start - 1].isalnum() or before[start - 1] == "_"):
        return ""
    return before[start:end]


def _direction_before(before: str) -> str | None:
    d = _word_before(before)
    if not d:
        return None
    end = len(before.rstrip())
    start = end - len(d)
    if start > 0 and before[start - 1] == "-":  # "north-east", but "north-central" is "central"
        j = start - 1
        while j and before[j - 1].isalpha():
            j -= 1
        compound = before[j:end].lower()
        if compound in _DIRECTIONS and not (j and (before[j - 1].isalnum() or before[j - 1] == "_")):
            return _DIRECTIONS[compound]
    return _DIRECTIONS.get(d.lower())


def _person_before(ctx: _Ctx, pos: int) -> bool:
    """A title just before `pos`: "Dr. X", "Gen X", "President X"."""
    known = ctx.titled.get(pos)
    if known is None:
        prev = ctx.text[pos - 1:pos] if pos else ""
        if prev != "." and not prev.isspace():
            known = False  # `_word_before` needs white space (or a full stop) before `pos`
        else:
            w = _word_before(ctx.text[max(0, pos - 20):pos], dot=True)
            known = bool(w) and w[0].isupper() and w.lower() in ctx.lex["titles"]
        ctx.titled[pos] = known
    return known


def _classify_run(ctx: _Ctx, run: tuple[int, int], matched: list[_Cand], out: list[_Cand],
                  unmatched: list[tuple[int, int]], after_of: tuple[int, int] | None | bool = None) -> None:
    """Decide what a run (or a segment of one) says about the places it holds.

    A run that is one longer name around a match ("Wadi Zarqun", "Zarbunat al-Sharqi",
    "Chiquita Raquel Henry") goes to `unmatched`, to be judged as an unknown name.
    `after_of` is the segment before an "of" that joins it to this one ("University of X").
    """
    text, toks, lex = ctx.text, ctx.toks, ctx.lex
    a, b = run
    headline = ctx.in_headline(toks[a].start)
    first_m, last_m = matched[0], matched[-1]
    lead = [toks[i].low for i in range(a, first_m.first) if toks[i].cap]
    trail = [toks[i].low for i in range(last_m.last + 1, b + 1) if toks[i].cap]

    # A person: "Dr. X", "President X Y", "Ahmed al-Idlibi".
    person = _person_before(ctx, toks[a].start) or bool(
        lead and (lead[0] in lex["titles"] or lead[0] in lex["given_names"]))
    if not person and not headline and first_m.first > a and (
            toks[first_m.first - 1].low in lex["name_prefixes"] or not _word_classes()["context_lead"].issuperset(lead)):
        # An unknown word (or "Wadi", "Deir") before the place: the whole run is another name,
        # a place the gazetteer lacks or a person's; the context will tell.
        if not (trail and trail[-1] in lex["org_suffixes"]):
            unmatched.append((a, b))
        return
    if not person and len(matched) > 1 and not headline and all(c.first == c.last for c in matched) and all(
            text[x.end:y.start] == " " and y.first == x.last + 1 for x, y in zip(matched, matched[1:])):
        person = True  # "Scott Lincoln", "Jordan Baker": two one-word places side by side are a name
    if person:
        if not trail and last_m.last == b and last_m.first == last_m.last and last_m.hits[0][0].feature not in (
                "country", "admin1"):
            ctx.person_words.add(toks[b].low)
        return

    role = "location"
    named_after = False
    of_word = toks[after_of[1]].low if isinstance(after_of, tuple) else ""
    if of_word and of_word in lex["org_suffixes"] and of_word not in lex["place_nouns"]:
        role = "affiliation"  # "University of Florida", "Ministry of Defence of X"
    elif text[toks[a].start - 1:toks[a].start] == "-" and _PRO_ANTI.search(
            text, max(0, toks[a].start - 6), toks[a].start):
        role = "affiliation"  # "pro-Assad", "anti-Damascus": a stance
    elif any(w in lex["org_prefixes"] for w in lead) and not all(w in _DIRECTIONS for w in lead):
        role = "affiliation"  # "Free Idlib Army", "Ahrar al-Sham"
    elif lead and lead[0] in lex["org_suffixes"] and not headline:
        role = "affiliation"  # "University of Florida", "Ministry of Defence"
    elif trail and trail[0] in lex["source_trailers"] and text.endswith(" in ", 0, toks[a].start) and all(
            toks[i].text.isupper() for i in range(last_m.last + 2, b + 1)):  # "Monitor", "Monitor AFP"
        pass  # "... killed in Syria Monitor": a headline's source after the place, its dash lost
    elif trail and trail[-1] in lex["org_suffixes"] and trail[-1] not in lex["site_suffixes"] and not (
            len(trail) == 1 and (trail[0] in lex["admin_suffixes"] or trail[0] in lex["city_suffixes"]
                                 or trail[0] in lex["minor_admin_suffixes"])):
        role = "affiliation"  # "Hama's Healthcare Directorate", "Idlib Media Center"
    elif trail and _acronym_after_locative(ctx, a, last_m.last + 1):
        pass  # "killed in Aleppo ISIS attacks": a headline's place, then another name (its comma lost)
    elif trail and not headline and not _word_classes()["kind_trail"].issuperset(trail):
        if not _common_noun(ctx, trail[0]) or trail[0] in lex["given_names"]:
            return  # "Paris Hilton", "Jordan Spieth": the place names something else
        role = "affiliation"  # "Dublin City Manager", "Paris Public Library", "U.S. House": named after it
        named_after = True
    if len(matched) > 1 and role == "location":
        # "Wal-Mart", "Coca-Cola": hyphenated halves are one name unless it is a road.
        for x, y in zip(matched, matched[1:]):
            if text[x.end:y.start] == "-" and not _ROAD_ONLY_AFTER.match(text, last_m.end):
                if not _ROAD_AFTER.match(text, x.end):
                    return
    for c in matched:
        c.role = role
        c.headline = headline
        if named_after:
            c.extra["named_after"] = True
        c.initial = c.first == a and ctx.sentence_initial(c.start)
        if c.first > a and toks[c.first - 1].low in lex["rural_prefixes"] and any(
                p.feature == "admin1" for p, _ in c.hits):
            c.admin_cue = True  # "Rural Aleppo": the province's countryside
            c.extra["rural"] = True
        if c is last_m and trail:
            w0 = trail[0]
            if w0 in lex["admin_suffixes"]:
                c.admin_cue = True
                if w0 == "countryside":
                    c.extra["rural"] = True  # "Damascus Countryside"
            elif w0 in lex["minor_admin_suffixes"]:
                c.minor_admin_cue = True
            elif w0 in lex["city_suffixes"]:
                c.city_cue = True
        if c.first > a and toks[c.first - 1].low in _DIRECTIONS and text[toks[c.first - 1].end:c.start] == " ":
            c.direction_adj = _DIRECTIONS[toks[c.first - 1].low]
        out.append(c)


def _classify_word(ctx: _Ctx, c: _Cand, out: list[_Cand]) -> None:
    """`_classify_run` of a run that is one word, matched (c): a person's name after a title,
    else a place (a stance: "pro-Assad")."""
    start = c.start
    if _person_before(ctx, start):
        if c.hits[0][0].feature not in ("country", "admin1"):
            ctx.person_words.add(ctx.toks[c.first].low)
        return
    text = ctx.text
    if text[start - 1:start] == "-" and _PRO_ANTI.search(text, max(0, start - 6), start):
        c.role = "affiliation"
    c.headline = ctx.in_headline(start)
    c.initial = ctx.sentence_initial(start)
    out.append(c)


def _acronym_after_locative(ctx: _Ctx, a: int, i: int) -> bool:
    """Whether a run opens after a locative preposition ("in", "near") and its place is
    followed by an acronym ("in Aleppo ISIS attacks"): an organisation is not written
    "in X ORG", so the acronym starts another name."""
    w = ctx.toks[i].text
    if len(w) < 2 or not w.isupper() or not w.isalpha():
        return False
    start = ctx.toks[a].start
    before = _word_before(ctx.text[max(0, start - 12):start]).lower()
    return before in _STRONG_PREP and before != "at"


@lru_cache(maxsize=100_000)
def _lone_word_rejected(word: str) -> bool:
    """The tests of `_unmatched` that a run of one name token fails by its word alone: a word
    of the lexicons (an organisation's, a title, a given name, a month, a plain word), a demonym,
    a short word or an acronym."""
    low, lex, classes = word.lower(), _lexicon(), _word_classes()
    return (low in lex["org_suffixes"] or low in lex["org_prefixes"] or low in lex["titles"]
            or low in lex["given_names"] or low in lex["calendar_words"]
            or (low in _demonym_forms()[0] and demonym_country(word) is not None)
            or low in classes["plain"] or len(low) < 4 or word.isupper())


def _unmatched(ctx: _Ctx, a: int, b: int) -> _Cand | None:
    """A run with no gazetteer entry: a candidate for the fuzzy look-up or an unknown place."""
    toks = ctx.toks
    if a == b:  # most runs are one word: the tests below, for it
        t = toks[a]
        if not t.cap or _lone_word_rejected(t.text) or ctx.lower_words[t.low] or _person_before(ctx, t.start):
            return None
        return _unknown_cand(ctx, a, a)
    lex, classes = ctx.lex, _word_classes()
    # Leading context words are not part of the name: "Assault", "Southern".
    while a < b and toks[a].low not in lex["name_prefixes"] and (
            not toks[a].cap or toks[a].low in classes["plain_lead"] or ctx.lower_words[toks[a].low]):
        if toks[a].low in _LEADING_ARTICLES and toks[a + 1].cap and (
                toks[a].cap or ctx.text[toks[a].end:toks[a + 1].start] == "-"):
            break  # "al-Tukhar", "Al-Tukhar", "El Malah": the article belongs to the name
        a += 1
    # And trailing kinds of place: "Qaboun Camp", "Abdin District".
    while b > a and (toks[b].low in classes["kinds"] or not toks[b].cap):
        b -= 1
    caps = [toks[i].low for i in range(a, b + 1) if toks[i].cap]
    if not caps or len(caps) > 4 or not toks[b].cap:
        return None
    if caps[-1] in lex["org_suffixes"] or caps[0] in lex["org_prefixes"] or caps[0] in lex["titles"]:
        return None
    if caps[0] in lex["given_names"] or caps[0] in lex["calendar_words"]:
        return None
    forms = _demonym_forms()[0]
    if any(toks[i].cap and toks[i].low in forms and demonym_country(toks[i].text) for i in range(a, b + 1)):
        return None
    plain = classes["plain"]
    lower_words = ctx.lower_words
    if all(w in plain or lower_words[w] for w in caps):
        return None
    if a == b and (len(caps[0]) < 4 or toks[a].text.isupper()):
        return None
    if _person_before(ctx, toks[a].start):
        return None
    return _unknown_cand(ctx, a, b)


def _unknown_cand(ctx: _Ctx, a: int, b: int) -> _Cand | None:
    """The candidate `_unmatched` makes of tokens a..b."""
    toks = ctx.toks
    start, end = toks[a].start, toks[b].end
    c = _Cand(start, end, a, b, name_key(ctx.text[start:end]))
    if not c.key:
        return None
    c.headline = ctx.in_headline(start)
    c.initial = ctx.sentence_initial(start)
    c.weak = a == b and toks[a].low in ctx.person_words
    return c


def _fuzzy(gaz: Gazetteer, cands: list[_Cand]) -> None:
    """Skeleton look-up for runs with no exact match: candidates with their similarity."""
    close = gaz.close_keys({c.key for c in cands if len(c.key) >= 4}, FUZZY_THRESHOLD_IN_FOCUS)
    wanted = {c: keys for c in cands if len(c.key) >= 4 and (keys := close[c.key])}
    if not wanted:
        return
    found = gaz.lookup_keys({k for keys in wanted.values() for k, _ in keys})
    for c, keys in wanted.items():
        hits: dict[int, tuple[Place, bool]] = {}
        scores: dict[int, float] = {}
        for k, score in keys:
            for p, main in found.get(k, ()):
                if score > scores.get(p.geonameid, 0):
                    hits[p.geonameid], scores[p.geonameid] = (p, main), score
        c.hits = tuple(hits.values())
        c.fuzzy = bool(hits)
        c.extra["score"] = scores


def _context(ctx: _Ctx, c: _Cand) -> None:
    """What the words around a candidate say: cues, relative expressions, roads."""
    text = ctx.text
    b0 = max(0, c.start - 80)
    before = text[b0:c.start]
    tail = before.rstrip().lower()
    after_end = min(len(text), c.end + 60)
    if tail.endswith(" of") or tail.endswith("\nof"):
        m = _search_before(_PLACE_NOUN_OF, _PLACE_NOUN_OF_WORDS, before)
        if m:
            c.strong = c.noun_cue = True
            kind = m.group(1).lower()
            if kind in ("province", "governorate", "region", "countryside"):
                c.admin_cue = True
                if kind == "countryside":
                    c.extra["rural"] = True  # "the countryside of Damascus"
            elif kind.startswith(("town", "village", "city", "suburb", "neighbo", "camp", "hamlet", "settlement")):
                c.city_cue = True
        m = _REL_DISTANCE.search(before) if re.search(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                                                       r"fifteen|twenty|thirty|forty|fifty|few|couple)\b",
                                                       before[-60:]) else None
        if m:
            num = " ".join(m.group(1).lower().split())
            value = float(num.replace(",", ".")) if num[0].isdigit() else float(_NUMBERS.get(num, 0))
            unit = m.group(2).lower()
            km = value * 1.609 if unit.startswith("mi") else value / 1000 if unit.startswith("m") else value
            c.rel = (b0 + m.start(), _norm_dir(m.group(3)), km)
        else:
            m = _search_before(_REL_DIRECTION, _REL_DIRECTION_WORDS, before)
            if m:
                c.rel = (b0 + m.start(), _norm_dir(m.group(1)), None)
    if c.rel is None and (" " + tail).endswith((" near", " nearby", " outside", " to", " of")):
        m = _search_before(_REL_NEAR, _REL_NEAR_WORDS, before)
        if m:
            c.rel = (b0 + m.start(), "near", None)
    if c.rel is not None:
        c.strong = True
    if not c.strong and (tail.endswith(" of") or tail.endswith(" of the")):
        if _search_before(_PLACE_NOUN_OF, _PLACE_NOUN_OF_WORDS, before.rstrip()[:-4] + " of ") \
                if tail.endswith(" of the") else None:
            c.strong = c.noun_cue = True
    last = tail.rsplit(None, 1)[-1] if tail else ""
    if last in ctx.lex["rural_prefixes"] and tail.endswith((" " + last, "\n" + last)):
        if any(p.feature == "admin1" for p, _ in c.hits):
            # "in rural Aleppo": the province's countryside (but "rural Paris", of a town, is near it)
            c.admin_cue = c.strong = True
            c.extra["rural"] = True
        last = tail[:-len(last)].rsplit(None, 1)[-1] if tail[:-len(last)].strip() else ""
    if last == "the" and len(tail) > 4:
        last = tail[:-4].rsplit(None, 1)[-1] if tail[:-4].strip() else ""
    if last in _LOCATIVE or last in ("to", "on", "of", "and"):
        c.prep = last
    # The patterns after the name open with a comma, white space or (roads) a hyphen, and
    # after white space all need one of `_AFTER_TRIGGERS` as the next word: only those that
    # can match are tried (a word with other than ASCII letters may match case-insensitively).
    next_char = text[c.end:c.end + 1]
    cue_after = False
    if next_char.isspace():
        m = _WORD_AFTER_SPACE.match(text, c.end, after_end)
        cue_after = m is not None and (not m.group(1).isascii() or m.group(1).lower() in _AFTER_TRIGGERS)
    if next_char == ",":
        if _COMMA_UNIT.match(text, c.end, after_end):
            c.extra["comma_next"] = True  # "Wintersville, Ohio": strong if the next name is a unit
        if _APPOSITION_REL.match(text, c.end, after_end):
            c.strong = True
            c.extra["apposition"] = True
    elif cue_after:
        if _INSIDE_NEXT.match(text, c.end, after_end):
            c.extra["inside_next"] = True
            if not c.hits:
                c.strong = True
        m = _ADMIN_AFTER.match(text, c.end, after_end)
        if m or _ADMIN_COORDINATED.match(text, c.end, after_end):
            c.admin_cue = True
            if m and m.group(1).lower() == "countryside":
                c.extra["rural"] = True  # "the Damascus countryside"
        elif _MINOR_ADMIN_AFTER.match(text, c.end, after_end):
            c.minor_admin_cue = True
        elif _CITY_AFTER.match(text, c.end, after_end):
            c.city_cue = True
        elif _AREA_AFTER.match(text, c.end, after_end):
            c.strong = True  # "the Ghouta area", "the Yarmouk camp"
    if c.direction_adj is None and tail.endswith(_DIRECTION_WORDS):
        c.direction_adj = _direction_before(before)  # "northern Hama", "north-east Syria"
    # Roads: "the Damascus-to-Aleppo highway", "the Aleppo-Damascus road", "the road to Hama".
    if (cue_after or next_char == "-") and _ROAD_AFTER.match(text, c.end, after_end):
        c.role = "route"
    elif before.endswith("-") and _HYPHEN_BEFORE.search(before) and _ROAD_ONLY_AFTER.match(text, c.end, after_end):
        c.role = "route"
    elif tail.endswith(" to") and _ROAD_TO_BEFORE.search(before):
        c.role = "route"
    if c.role == "location" and c.hits and _metonymy(ctx, c, last):
        c.role = "affiliation"
        c.extra["metonymy"] = True
    owner = ctx.toks[c.first - 1] if c.first else None
    if owner is not None and owner.possessive and owner.end + 3 >= c.start:
        if c.hits:
            c.strong = True  # "Syria's Manbij", "Syrias Manbij": a known place of the possessor
        if c.prep is None:  # "in Syrias Khan Touman": in the place the possessor holds
            word = _word_before(text[max(0, owner.start - 20):owner.start])
            c.prep = word.lower() if word.lower() in _LOCATIVE else None
    if c.admin_cue or c.city_cue or c.prep in _STRONG_PREP:
        c.strong = True


_METONYMIC_CAPITAL = 200_000


def _metonymic_capital(ctx: _Ctx, c: _Cand) -> bool:
    """A capital under its own name, populous enough to stand for a state ("Douglas said" is
    a person, not the Isle of Man's capital; "Salisbury" no longer Zimbabwe's)."""
    return _hit_facts(c.hits).is_capital(ctx.capitals)


_AFTER_WORD = re.compile(r"(?:['’]?s)?\s+([a-z]+)\b")
_HYPHEN_WORD = re.compile(r"[-\u2010\u2011]([a-z]+)\b")
_HYPHENS = ("-", "\u2010", "\u2011")


def _metonymy(ctx: _Ctx, c: _Cand, before_word: str) -> bool:
    """Whether the name stands for an actor, not a place: "US-led", "Iran-backed" (any
    place); a capital or a country as its government: "the Damascus regime", "Moscow's
    support", "Washington announced", "brokered by Moscow" (a capital), but not "activists
    in Damascus said" or "east of Damascus, said the monitor"."""
    text, lex = ctx.text, ctx.lex
    m = _HYPHEN_WORD.match(text, c.end) if text[c.end:c.end + 1] in _HYPHENS else None
    if m:
        return m.group(1) in lex["affiliation_hyphens"]
    capital = _metonymic_capital(ctx, c)
    if not capital and not _hit_facts(c.hits).country:
        return False
    if c.last != c.first and not capital and not ctx.toks[c.last].cap:
        return False
    m = _AFTER_WORD.match(text, c.end)
    word = m.group(1) if m else ""
    if word in lex["metonymy_nouns"]:
        return True
    if before_word in _LOCATIVE or before_word in ("of", "to", "from", "and", "on", "the", "between"):
        return False
    if capital and before_word == "by":
        return True  # "brokered by Moscow"
    return bool(word) and (word in lex["speech_verbs"] or word in lex["metonymy_verbs"]) and m.start() == c.end \
        if text[c.end:c.end + 1] != "," else False


def _cue_lists(ctx: _Ctx, cands: list[_Cand]) -> None:
    """Lists after a kind of place: "towns like X, Y and Z"; "nearby towns like X" lie near the name before."""
    text = ctx.text
    prev: _Cand | None = None
    for c in cands:
        before = text[max(0, c.start - 60):c.start]
        listing = before.rstrip().endswith(("like", "as", "including", "of", "namely"))
        m = _search_before(_LIST_AFTER_NOUN, _LIST_AFTER_NOUN_WORDS, before) if listing else None
        if m:
            c.strong = True
            c.extra["listed"] = True
            if m.group(1):
                c.extra["near_prev"] = c.start - len(before) + m.start()
            prev = c
        elif prev is not None and _LIST_SEP.fullmatch(text, prev.end, c.start):
            c.strong = True
            c.extra["listed"] = True
            if "near_prev" in prev.extra:
                c.extra["near_prev"] = prev.extra["near_prev"]
            prev = c
        else:
            prev = None


def _norm_dir(d: str) -> str:
    d = d.lower()
    return _DIRECTIONS.get(d, d.replace("-", ""))


# ---------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------

# Weights of the candidate ranking, chosen on the geoparsing corpora (LGL, GWN, GeoVirus):
# flat around these values; the population weight is kept low so that a plain "Hama"
# stays the city rather than the (more populous) governorate.
_W = {"focus": 2.0, "admin_focus": 1.5, "pop": 0.5, "main": 0.4, "country": 2.0, "continent": 2.0, "populated": 1.0,
      "admin1": 0.3, "near60": 2.0, "near150": 1.2, "near400": 0.5, "affiliation_vote": 0.25, "capital": 1.0,
      "colocated": 1.5}


# A report is about one country when its focus votes are this many, and this many times the
# next country's; then a place abroad must be in a country the report names, or be this populous.
_DOMINANT_RATIO = 3.0
_DOMINANT_MIN = 3.0
_DOMINANT_NAMES = 2  # distinct names placing it in that country alone
_WELL_KNOWN_POPULATION = 500_000


def _km(a: Place, b: Place) -> float:
    x = (b.longitude - a.longitude) * math.cos(math.radians((a.latitude + b.latitude) / 2))
    return 111.195 * math.hypot(x, b.latitude - a.latitude)


_BEARINGS = {"north": 0.0, "northeast": 45.0, "east": 90.0, "southeast": 135.0, "south": 180.0,
             "southwest": 225.0, "west": 270.0, "northwest": 315.0}
# "X, north of Y" with no distance: X lies within this of Y's point (a province or a city's
# outskirts can stretch this far), in a bearing within this of the one said.
_RELATION_RADIUS_KM = 200.0
_RELATION_BEARING_SLACK = 90.0
_REL_GAP = re.compile(r"\s*,?\s*")
# "Aleppo's X": a city this populous holds X in its province; "Mosul, north of Baghdad": a city
# this populous, under its own name, may lie beyond the radius of a relative expression.
_LARGE_CITY = 100_000


def _bearing(a: Place, b: Place) -> float:
    """Initial bearing from a to b, degrees clockwise from north."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlon = math.radians(b.longitude - a.longitude)
    y = math.sin(dlon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return math.degrees(math.atan2(y, x)) % 360.0


def _fits_relation(p: Place, anchor: Place, direction: str, km: float | None, well_known: bool = False) -> bool:
    """Whether p can be the place "`km` km `direction` of `anchor`" describes. A `well_known`
    city may lie farther than the radius ("Mosul, north of Baghdad"), not on the wrong side."""
    if anchor.feature in ("country", "continent"):
        return True  # "north of Syria": too coarse to rule anything out
    if anchor.feature == "admin1" and p.country_code == anchor.country_code and p.admin1 == anchor.name:
        return True
    d = _km(anchor, p)
    limit = max(30.0, 1.5 * km + 15.0) if km else _RELATION_RADIUS_KM
    if anchor.feature == "admin1" or p.feature == "admin1":
        limit += 100.0  # measured from a unit's centre
    if d > limit and not (well_known and not km):
        return False
    if direction not in _BEARINGS or d < 15.0 or anchor.feature == "admin1" or p.feature == "admin1":
        return True  # "near Y", or within the anchor's own extent: any bearing
    off = abs((_bearing(anchor, p) - _BEARINGS[direction] + 180.0) % 360.0 - 180.0)
    return off < _RELATION_BEARING_SLACK


def _constrain_by_relations(ctx: _Ctx, cands: list[_Cand], ruled_out: dict[str, set[int]]) -> None:
    """"Al Maleh north of Aleppo", "Adra, east of Damascus": a relative expression right after
    a name locates it, so its entries far from the anchor (or on its other side) are other
    places of that name. With none left the name stays unknown, tied to the anchor (which
    also makes it a place: the expression says so)."""
    text = ctx.text
    for x, y in pairwise(cands):
        if y.rel is None or not x.hits or not y.hits or x.role != "location" or y.rel[0] < x.end \
                or not _REL_GAP.fullmatch(text, x.end, y.rel[0]):
            continue
        _, direction, km = y.rel
        # A city's own point, rather than a unit of the same name ("Damascus"), if it has one.
        anchors = [p for p, _ in y.hits[:25] if p.feature in ("populated", "admin2", "site")] or [
            p for p, _ in y.hits[:25]]
        fit = tuple(h for h in x.hits if h[0].feature in ("country", "continent") or any(
            _fits_relation(h[0], q, direction, km, h[1] and not x.fuzzy and h[0].population >= _LARGE_CITY)
            for q in anchors))
        if len(fit) == len(x.hits):
            continue
        ruled_out[x.key].update(h[0].geonameid for h in x.hits if h not in fit)
        x.hits = fit
        if not fit:
            x.fuzzy = False
            x.strong = True
            x.extra["apposition"] = True


def _held_by(p: Place, owners: tuple[tuple[Place, bool], ...]) -> bool:
    """Whether p lies in what a possessor names: its country, or its first-level unit when
    the possessor is a unit or a large city ("Aleppo's X", "Utah's X"); a small place or a
    person's name that is also one ("Dot's X") only vouches for its country."""
    for q, _ in owners:
        if q.country_code != p.country_code:
            continue
        if q.feature in ("country", "continent") or not q.admin1 or p.feature in ("country", "admin1") or (
                q.feature != "admin1" and q.population < _LARGE_CITY):
            return True
        if p.admin1 == q.admin1 or _km(p, q) < 60.0:
            return True
    return False


_CELL_DEG = 0.5  # about 55 km of latitude


def _cell(p: Place) -> tuple[int, int]:
    return int(p.latitude // _CELL_DEG), int(p.longitude // _CELL_DEG)


def _colocated(cells: dict[tuple[int, int], dict[str, float]],
               hoods: dict[tuple[int, int], tuple[dict[str, float], float]], p: Place, key: str) -> float:
    """The votes of the other names with a candidate in p's grid cell or the cells around it
    (within ~55-110 km), each name's vote shared among its candidates. `hoods` memoises the
    neighbourhoods of cells (the votes in them and their sum)."""
    cell = (int(p.latitude // _CELL_DEG), int(p.longitude // _CELL_DEG))  # `_cell`, inlined: a hot path
    hood = hoods.get(cell)
    if hood is None:
        y, x = cell
        votes: dict[str, float] = {}
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                found = cells.get((y + dy, x + dx))
                if found:
                    votes.update(found)
        hood = hoods[cell] = (votes, sum(votes.values()))
    votes, total = hood
    return total - votes.get(key, 0.0)


def _nearest_km(p: Place, others: list[Place]) -> float:
    """Distance to the nearest of `others` (exact below 400 km; 400 or more when none is that near)."""
    lat, lon = p.latitude, p.longitude
    best = 1e9
    for q in others:
        dlat = q.latitude - lat
        if -3.6 < dlat < 3.6:  # 400 km of latitude
            x = (q.longitude - lon) * math.cos(math.radians((lat + q.latitude) / 2))
            d = 111.195 * math.hypot(x, dlat)
            if d < best:
                best = d
                if d < 60:
                    break
    return best


def _major(p: Place) -> bool:
    """A continent, a country or a populous first-level unit: its name is rarely anything else."""
    return p.feature in ("country", "continent") or (p.feature == "admin1" and p.population >= 300_000)


class _HitFacts:
    """What the tests of the stage ask about a hits tuple ((Place, main), ...), each of which
    would scan all of its entries ("Springfield" has dozens): worked out once per tuple (see
    `_hit_facts`). `hits` pins the tuple."""

    __slots__ = ("hits", "major", "country", "unit", "continent", "admin1", "voter", "known_main", "max_population",
                 "countries", "populous", "capital", "obscure", "vote")

    def __init__(self, hits: tuple[tuple[Place, bool], ...]) -> None:
        self.hits = hits
        major = country = unit = continent = admin1 = known_main = False
        max_population = 0
        populous: list[int] = []  # ids of entries that would stand for a state if capitals
        countries: list[str] = []
        for p, main in hits:
            countries.append(p.country_code)
            feature, population = p.feature, p.population
            if feature == "country":
                country = unit = major = True
            elif feature == "admin1":
                admin1 = unit = True
                major = major or population >= 300_000  # `_major`
            elif feature == "continent":
                continent = major = True
            if population > max_population:
                max_population = population
            if main and (population >= 50_000 or feature in ("country", "admin1")):
                known_main = True
                if population >= _METONYMIC_CAPITAL:
                    populous.append(p.geonameid)
        self.major = major  # `_any_major`
        self.country = country
        self.unit = unit  # a country or a first-level unit
        self.continent = continent
        self.admin1 = admin1
        # Evidence of the report's country even when named without context (`_resolve`).
        self.voter = unit or max_population >= 100_000
        # A well-known place under its own name (`_weak_single`).
        self.known_main = known_main
        self.max_population = max_population
        self.countries = tuple(countries)  # of the entries (a tuple, which the collector untracks)
        self.populous = tuple(populous)
        # Facts that depend on the national capitals, with the capitals they were worked out for
        # (one attribute each, set at once: threads may share the facts).
        self.capital: tuple[frozenset[int] | None, bool] = _NOT_WORKED_OUT
        self.obscure: tuple[frozenset[int] | None, frozenset[str] | set[str]] = _NOT_WORKED_OUT
        # The name's focus vote (`_focus_vote`), once asked for.
        self.vote: tuple[set[str], dict[str, float], float, set[tuple[str, str]]] | None = None

    def is_capital(self, capitals: frozenset[int]) -> bool:
        """A capital under its own name, populous enough to stand for its state (`_metonymic_capital`)."""
        known = self.capital
        if known[0] is not capitals:
            known = self.capital = (capitals, not capitals.isdisjoint(self.populous))
        return known[1]

    def obscure_countries(self, capitals: frozenset[int]) -> set[str]:
        """The countries of the entries neither major, nor capitals, nor well known (`_resolve`)."""
        known = self.obscure
        if known[0] is not capitals:
            known = self.obscure = (capitals, {p.country_code for p, _ in self.hits if not (
                _major(p) or p.geonameid in capitals or p.population >= _WELL_KNOWN_POPULATION)})
        return known[1]


_NOT_WORKED_OUT: tuple[None, Any] = (None, frozenset())  # a fact of `_HitFacts` not asked for yet


# Facts by the identity of a hits tuple: the gazetteer's tuples are shared by every mention of
# a name in every report. Each value holds its tuple, so no other tuple can take its id while
# it is kept.
_HIT_FACTS: dict[int, _HitFacts] = {}
_HIT_FACTS_MAX = 20_000  # a few thousand tuples serve a day of reports; each value pins its tuple


def _hit_facts(hits: tuple[tuple[Place, bool], ...]) -> _HitFacts:
    facts = _HIT_FACTS.get(id(hits))
    if facts is None or facts.hits is not hits:
        if len(_HIT_FACTS) >= _HIT_FACTS_MAX:
            _HIT_FACTS.clear()
        facts = _HIT_FACTS[id(hits)] = _HitFacts(hits)
    return facts


def _any_major(hits: tuple[tuple[Place, bool], ...]) -> bool:
    return _hit_facts(hits).major


def _verdict(ctx: _Ctx, c: _Cand, top_focus: set[str], named: set[str] = frozenset()) -> str:
    """"keep", "context" (kept if the same name is kept elsewhere in the report) or "drop"."""
    lw = ctx.toks[c.first].low
    if c.first == c.last and lw in ctx.lex["calendar_words"]:
        return "drop"
    if c.role in ("affiliation", "route"):
        if not c.hits or c.fuzzy or c.weak:
            return "drop"
        if c.extra.get("named_after") and not _any_major(c.hits):
            return "context"  # "Superior Court", "Lincoln Memorial": a place only if named as one elsewhere
        return "keep"
    if c.first == c.last and lw in ctx.person_words and not c.noun_cue and not _any_major(c.hits):
        return "drop"
    after = ctx.text[c.end:c.end + 12]
    if c.first == c.last and not c.noun_cue and _DESIGNATION_AFTER.match(after) and not _any_major(c.hits):
        return "drop"  # "Pack 122", "Section 2AA", "Building 12": a designation
    if c.first == c.last and ctx.ampersand and not _any_major(c.hits) and (
            _AMPERSAND_AFTER.match(ctx.text, c.end)
            or _AMPERSAND_BEFORE.search(ctx.text, max(0, c.start - 20), c.start)):
        return "drop"  # "Stevens & Wilkinson", "Procter & Gamble": a firm
    next_word = _NEXT_WORD.match(after) if c.first == c.last and not c.noun_cue else None
    if (next_word and next_word.group(1).lower() in ctx.lex["speech_verbs"]
            and not _any_major(c.hits)):
        return "drop"  # "Jones said"
    if not c.hits:
        return "keep" if _unknown_place_ok(ctx, c) else "drop" if c.weak else "context"
    if c.fuzzy:
        scores = c.extra["score"]
        cue = c.strong or c.prep in _LOCATIVE
        # Close spellings in the report's main countries; very close ones in any country it names.
        ok = [p for p, _ in c.hits if (p.country_code in top_focus and scores.get(p.geonameid, 0) >= (
            FUZZY_THRESHOLD_IN_FOCUS if cue else FUZZY_THRESHOLD)) or (
            p.country_code in named and scores.get(p.geonameid, 0) >= 85.0)]
        if ok and (cue or c.headline or (c.extra.get("whole") and max(scores.get(p.geonameid, 0) for p in ok) >= 85.0)):
            c.hits = tuple((p, m) for p, m in c.hits if p in ok)
            return "keep"
        # No close spelling in the report's countries: an unknown place if the context says so.
        c.hits, c.fuzzy = (), False
        return "keep" if _unknown_place_ok(ctx, c) else "drop" if c.weak else "context"
    facts = _hit_facts(c.hits)
    if c.weak:
        if c.admin_cue or c.noun_cue:
            return "keep"
        return "context" if c.prep in _STRONG_PREP and not c.initial and not top_focus.isdisjoint(
            facts.countries) else "drop"
    # (The facts answer the test below for an entry in the report's countries, or a major or
    # populous one: the common case.)
    if top_focus and c.first == c.last and top_focus.isdisjoint(facts.countries) and named.isdisjoint(
            facts.countries) and not facts.major and facts.max_population < 50_000 and not any(
            p.country_code in top_focus or p.country_code in named or _major(p) or p.population >= 50_000
            or (main and key_similarity(c.key, name_key(p.name)) >= 80) for p, main in c.hits):
        # Only small places abroad, and under another of their names: more likely a place
        # of the report's country the gazetteer lacks ("Zarqun" is no Iranian "Zarjan").
        c.hits = ()
        return "keep" if _unknown_place_ok(ctx, c) else "drop" if c.weak else "context"
    unit = facts.unit or not top_focus.isdisjoint(facts.countries)  # an entry a unit or in the report's countries
    cue = c.strong or c.prep in _LOCATIVE or c.direction_adj or c.city_cue or c.minor_admin_cue
    if c.first == c.last and not cue and not _any_major(c.hits) and _hit_facts(c.hits).max_population < 100_000:
        return "context"  # "Baker", "Lane": a small place named once without a locative word is often a surname
    if c.initial and not c.strong and c.first == c.last and not unit:
        return "context"
    if c.headline and not c.strong and not unit:
        return "context"
    # An alternate name unlike the entry's own (an exonym or old name: "Sham" for Damascus)
    # needs context: it is as often the name of something else.
    if not c.strong and all(not main and p.feature not in ("country", "admin1")
                            and key_similarity(c.key, name_key(p.name)) < 60 for p, main in c.hits):
        return "context"
    return "keep"


def _unknown_place_ok(ctx: _Ctx, c: _Cand) -> bool:
    """A name the gazetteer lacks is kept only when the context calls it a place.

    "the village of X", "X, north of Y", "towns like X", "in X" (not "at X": at
    introduces firms and venues too); not names of buildings or firms, and not
    long names without a kind-of-place noun.
    """
    if not c.strong or c.weak or (c.headline and not (c.rel or c.extra.get("apposition"))):
        return False
    words = ctx.text[c.start:c.end].split()
    if words[-1].lower().strip(".,") in ctx.lex["facility_words"]:
        return False
    cue = c.noun_cue or c.rel is not None or c.extra.get("apposition") or c.admin_cue or c.city_cue or \
        c.extra.get("inside_next") or c.extra.get("listed")
    if not cue:
        if c.prep not in _STRONG_PREP or c.prep == "at" or len(words) > 2 or ctx.toks[c.last].possessive:
            return False  # "at Kroger", "in Modi's name"
        c.extra["prep_only"] = True  # kept, but vouches for no other mention of the name
    return True


def _focus_vote(hits: tuple[tuple[Place, bool], ...], country: bool
                ) -> tuple[set[str], dict[str, float], float, set[tuple[str, str]]]:
    """What a name votes for in `_resolve` (the same for every mention of it): the countries
    sharing a country's vote; else each country's prior (how well-known its entries are) and
    their sum; and the units of its first-level entries."""
    ccs: set[str] = set()
    prior: dict[str, float] = {}
    if country:
        ccs = {p.country_code for p, _ in hits if p.feature == "country" or (
            p.feature == "admin1" and p.population >= 1_000_000)}
    else:
        for p, _ in hits:
            v = math.log10(p.population + 10) + (1.0 if p.feature == "admin1" else 0.0)
            if v > prior.get(p.country_code, 0.0):
                prior[p.country_code] = v
    admin_units = {(p.country_code, p.admin1) for p, _ in hits if p.feature == "admin1"}
    return ccs, prior, sum(prior.values()), admin_units


def _resolve(gaz: Gazetteer, ctx: _Ctx, cands: list[_Cand]) -> list[_Cand]:
    # Focus: the countries and first-level units the report names, weighted by ambiguity.
    # (Sums from 0.0, as a Counter's from 0, without a Counter's Python-level __missing__.)
    focus: defaultdict[str, float] = defaultdict(float)
    admin_focus: defaultdict[tuple[str, str], float] = defaultdict(float)
    focus_names: dict[str, set[str]] = defaultdict(set)  # a country -> the names voting for it alone
    counts = Counter(c.key for c in cands)
    for c in cands:
        if not c.hits or c.weak or c.fuzzy:
            continue
        facts = _hit_facts(c.hits)
        if facts.continent:
            continue  # a continent ("EU") is evidence of no country
        if c.first == c.last and ctx.toks[c.first].low in ctx.person_words and not facts.major:
            continue  # "Jeff Hamilton ... Hamilton will appear"
        # A place in an organisation's name ("Virginia State Police") is half a vote.
        weight = _W["affiliation_vote"] if c.role == "affiliation" else 1.0
        if not (c.strong or c.prep in _LOCATIVE or c.last > c.first or counts[c.key] > 1 or facts.voter):
            continue  # a lone small place named without context is weak evidence of the report's country
        vote = facts.vote
        if vote is None:
            vote = facts.vote = _focus_vote(c.hits, facts.country)
        ccs, prior, total_prior, admin_units = vote
        if facts.country:
            # A country's name is strong evidence, shared with a populous first-level unit
            # of the same name elsewhere ("Georgia").
            for cc in ccs:
                focus[cc] += weight * 2.0 / len(ccs)
            if len(ccs) == 1:
                focus_names[next(iter(ccs))].add(c.key)
        else:
            # One vote per mention, shared among its countries by how well-known their entries are.
            for cc, v in prior.items():
                focus[cc] += weight * v / total_prior
            if len(prior) == 1:
                focus_names[next(iter(prior))].add(c.key)
        # (With a cue, the units of all its entries: "X Province".)
        units = {(p.country_code, p.admin1) for p, _ in c.hits} if c.admin_cue else admin_units
        for unit in units:
            admin_focus[unit] += weight / len(units)
    demonyms: defaultdict[str, float] = defaultdict(float)
    forms = _demonym_forms()[0]
    for t in ctx.toks:  # "Syrian forces", "Iraqis": evidence of the country
        if t.cap and t.low in forms and _DEMONYM_SHAPE.fullmatch(t.text):
            cc = demonym_country(t.text)
            if cc:
                demonyms[cc] += 0.5
    for cc, v in demonyms.items():
        focus[cc] += min(v, 3.0)
    # `focus.most_common(2)`, without the heap it builds: a report names few countries.
    top = sorted(focus.items(), key=itemgetter(1), reverse=True)[:2]
    top_focus = {cc for cc, v in top if v >= 0.5 * top[0][1]} if top else set()
    # Countries the report names, or whose people it names more than once.
    named = {p.country_code for c in cands if c.role != "affiliation" for p, _ in c.hits if p.feature == "country"}
    named |= {cc for cc, v in demonyms.items() if v >= 1.0}

    # A report clearly about one country: a name whose every entry lies in a country the report
    # neither names nor is about is more likely a place of its own country the gazetteer lacks
    # ("Ez Zahra" in a report on Syria is no Tunisian town), unless it is well known.
    if top and top[0][1] >= _DOMINANT_MIN and (len(top) == 1 or top[1][1] * _DOMINANT_RATIO <= top[0][1]) \
            and len(focus_names[top[0][0]]) >= _DOMINANT_NAMES:
        home = top[0][0]
        plausible_countries = named | {home}
        for c in cands:
            if not c.hits or c.fuzzy or c.role not in ("location", "region"):
                continue
            if any(main for _, main in c.hits) and not any(main and p.country_code == home for p, main in c.hits):
                # At home only under an old or other name unlike its own ("Adra" for Daraa), and some
                # place's own name abroad: the name is most likely a third place the gazetteer lacks.
                c.hits = tuple((p, main) for p, main in c.hits if main or p.country_code != home
                               or p.feature in ("country", "admin1") or key_similarity(c.key, name_key(p.name)) >= 80)
            if _hit_facts(c.hits).obscure_countries(ctx.capitals) <= plausible_countries:
                continue  # every entry is plausible (the test below keeps them all)
            plausible = tuple((p, main) for p, main in c.hits if p.country_code == home or p.country_code in named
                              or _major(p) or p.geonameid in ctx.capitals or p.population >= _WELL_KNOWN_POPULATION)
            if len(plausible) < len(c.hits):
                c.extra["all_hits"] = c.hits  # still where its name lies, for the other names' votes
                c.hits = plausible
    # Names whose entries the context rules out ("Salah Eddin neighborhood in Aleppo" is not
    # Iraq's Saladin): the same name elsewhere in the report is not that entry either. (When a
    # unit or a possessor rules them out, only a unit in the report's main countries: a unit
    # misread is no evidence, "Cornwall in South West England" is not Singapore's South West.)
    ruled_out: dict[str, set[int]] = defaultdict(set)
    for x, y in zip(cands, cands[1:]):
        if y.first == x.last + 1 and ctx.toks[x.last].possessive and y.start - x.end <= 3 and x.hits and not any(
                _major(p) and p.feature == "country" for p, _ in y.hits):
            # "Aleppo's Salah Eddin", "Syrias Manbij": a place of the possessor (its first-level
            # unit when the possessor is a unit or a city, else its country), else unknown.
            held = tuple(h for h in y.hits if _held_by(h[0], x.hits))
            if not held and any(p.country_code in top_focus for p, _ in x.hits):
                ruled_out[y.key].update(p.geonameid for p, _ in y.hits)
            y.hits = held
            if not y.hits:
                y.fuzzy = False
                y.extra["inside_next"] = True  # anchored to the possessor below
                y.extra["possessor"] = x
    for x, y in zip(cands, cands[1:]):
        if y.role == "location" and _hit_facts(y.hits).unit and \
                _IN_UNIT_GAP.fullmatch(ctx.text, x.end, y.start):
            if ctx.text[x.end] == ",":
                x.strong = True  # "Wintersville, Ohio"
            in_unit = x.extra["in_unit"] = {p.country_code for p, _ in y.hits if p.feature == "country"} | {
                (p.country_code, p.name) for p, _ in y.hits if p.feature == "admin1"}
            if x.hits and not x.fuzzy and ctx.text[x.end] != "," and not any(
                    p.feature in ("country", "continent") for p, _ in x.hits) and not any(
                    p.country_code in in_unit or (p.country_code, p.admin1) in in_unit
                    or (p.country_code, p.name) in in_unit for p, _ in x.hits):
                if any(p.country_code in top_focus for p, _ in y.hits):
                    ruled_out[x.key].update(p.geonameid for p, _ in x.hits)
                x.hits = ()  # "Salah Eddin neighborhood in Aleppo": not Iraq's Saladin, a place the gazetteer lacks
            if not x.hits:
                x.extra["inside_next"] = True  # an unknown place inside a known unit
                x.strong = x.strong or (not x.initial and x.prep in _LOCATIVE)
    _constrain_by_relations(ctx, cands, ruled_out)
    if ruled_out:
        for c in cands:
            wrong = ruled_out.get(c.key)
            if wrong and c.hits and any(p.geonameid in wrong for p, _ in c.hits):
                c.hits = tuple(h for h in c.hits if h[0].geonameid not in wrong)
                if not c.hits:
                    c.fuzzy = False
    # Unknown names of several words first: those dropped are people ("Chiquita Raquel Henry"),
    # whose last word alone later is no place either ("Henry said").
    verdicts: list[str | None] = [None] * len(cands)
    for i, c in enumerate(cands):
        if (not c.hits or c.fuzzy) and c.last > c.first:
            verdicts[i] = _verdict(ctx, c, top_focus, named)
            if verdicts[i] == "drop" and not c.headline and ctx.toks[c.last].cap:
                ctx.person_words.add(ctx.toks[c.last].low)
    verdicts = [v if v is not None else _verdict(ctx, c, top_focus, named) for c, v in zip(cands, verdicts)]
    kept_keys = {c.key for c, v in zip(cands, verdicts)
                 if v == "keep" and c.role in ("location", "region") and not c.extra.get("prep_only")}
    kept = [c for c, v in zip(cands, verdicts) if v == "keep" or (v == "context" and c.key in kept_keys)]
    total = sum(focus.values()) or 1.0
    admin_total = 1.0 + sum(admin_focus.values())

    capitals = gaz.capitals()
    # Where the candidates of the other names lie: in the report's main countries, a candidate
    # near a candidate of another name is likelier ("Paris" and "Henry County" are Paris and
    # Henry County, Tennessee; but London and Paris, Ontario, only in a report on Canada).
    # A name's candidates share one vote: a unique name is strong evidence, "Springfield" weak.
    cells: dict[tuple[int, int], dict[str, float]] = {}
    hoods: dict[tuple[int, int], tuple[dict[str, float], float]] = {}  # a cell -> the votes in it and around it
    for c in kept:
        hits = c.extra.get("all_hits", c.hits)
        if c.role == "affiliation" or c.fuzzy or not hits:
            continue
        share = 1.0 / min(len(hits), 25)
        for p, _ in hits[:25]:
            if p.feature in ("populated", "admin2", "site"):
                cell = (int(p.latitude // _CELL_DEG), int(p.longitude // _CELL_DEG))  # `_cell`, inlined
                votes = cells.get(cell)
                if votes is None:
                    votes = cells[cell] = {}
                votes[c.key] = share
    anchors = {c.hits[0][0].geonameid: c.hits[0][0] for c in kept
               if c.role != "affiliation" and len(c.hits) == 1 and c.hits[0][0].feature == "populated"}
    w_capital, w_colocated, w_focus, w_admin_focus, w_pop, w_main = (
        _W["capital"], _W["colocated"], _W["focus"], _W["admin_focus"], _W["pop"], _W["main"])
    w_near60, w_near150, w_near400 = _W["near60"], _W["near150"], _W["near400"]
    for _round in range(2):
        memo: dict[tuple, Place | None] = {}  # a name repeated with the same cues resolves the same way
        for c in kept:
            if not c.hits:
                continue
            if len(c.hits) == 1:
                c.place = c.hits[0][0]
                continue
            want_unit = c.admin_cue or (c.direction_adj is not None and not c.city_cue)
            in_unit = c.extra.get("in_unit") or ()
            sig = (c.key, c.fuzzy, want_unit, c.minor_admin_cue, c.city_cue, tuple(sorted(map(str, in_unit))))
            if sig in memo:
                c.place = memo[sig]
                continue
            hits = c.hits[:25]  # best-known first: "Springfield" has dozens
            own = {p.geonameid for p, _ in c.hits}  # same-name entries do not vouch for each other
            near = [q for q in anchors.values() if q.geonameid not in own]
            major = _any_major(c.hits)  # "California" the state, not California, Maryland
            best, best_s = None, -1e9
            key, minor_admin_cue, city_cue = c.key, c.minor_admin_cue, c.city_cue
            fuzzy_scores = c.extra["score"] if c.fuzzy else None
            for p, main in hits:
                cc, feature = p.country_code, p.feature
                if p.geonameid in capitals:
                    s = w_capital  # "Washington": the capital, unless the report says otherwise
                else:
                    s = 0.0
                if not major and cc in top_focus and feature in ("populated", "admin2", "site"):
                    s += w_colocated * min(_colocated(cells, hoods, p, key), 2.0)
                s += w_focus * focus.get(cc, 0) / total
                s += w_admin_focus * admin_focus.get((cc, p.admin1), 0) / admin_total
                s += math.log10(p.population + 1) * w_pop
                s += w_main if main else 0.0
                if want_unit:
                    s += 5.0 if feature == "admin1" else 0.0
                elif minor_admin_cue:
                    s += 1.0 if feature in ("admin1", "admin2") else 0.0
                elif city_cue:
                    s += 2.0 if feature == "populated" else -2.0
                else:
                    s += _W.get(feature, 0.0)
                if near:
                    d = _nearest_km(p, near)
                    s += w_near60 if d < 60 else w_near150 if d < 150 else w_near400 if d < 400 else 0.0
                if fuzzy_scores is not None:
                    s += (fuzzy_scores.get(p.geonameid, 0) - 80) / 20
                if in_unit and (cc in in_unit or (cc, p.admin1) in in_unit):
                    s += 3.0  # "Wintersville, Ohio"
                if s > best_s:
                    best, best_s = p, s
            c.place = memo[sig] = best
        anchors = {c.place.geonameid: c.place for c in kept
                   if c.place is not None and c.place.feature in ("populated", "admin2") and c.role != "affiliation"}
    for c in kept:
        p = c.place
        if p is None or c.role != "location":
            continue
        if p.feature == "continent":
            c.role = "continent"  # a continent or union: no place where something happened
        elif c.extra.get("rural") and (rural := _rural_unit(gaz, ctx, c, p)) is not None:
            c.place, c.role = rural, "region"  # "rural Damascus": Rif Dimashq, the unit around the capital
        elif p.feature == "admin1" and (c.admin_cue or c.minor_admin_cue or c.direction_adj):
            c.role = "region"
        elif c.admin_cue and p.feature != "admin1":
            unit = gaz.admin1(p.country_code, p.admin1) if p.admin1 else None
            if unit is not None and name_key(unit.name) == c.key or (unit is not None and c.direction_adj is None):
                c.place, c.role = unit, "region"
    return kept


def _rural_unit(gaz: Gazetteer, ctx: _Ctx, c: _Cand, p: Place) -> Place | None:
    """The unit a name's countryside is ("rural Aleppo" is Aleppo province; "rural Damascus"
    is Rif Dimashq, which places_aliases.tsv names "Rural Damascus"); None if p has none."""
    key = name_key("rural " + ctx.text[c.start:c.end])
    own = next((q for q, _ in gaz.lookup_keys((key,)).get(key, ()) if q.feature == "admin1"
                and q.country_code == p.country_code), None)
    if own is not None:
        return own
    if p.feature == "admin1":
        return p
    return gaz.admin1(p.country_code, p.admin1) if p.admin1 else None


def _mentions(ctx: _Ctx, cands: list[_Cand]) -> list[PlaceMention]:
    text = ctx.text
    mentions: list[PlaceMention] = []
    for c in cands:
        m = PlaceMention(c.start, c.end, text[c.start:c.end], place=c.place,
                         candidates=[q for q, _ in c.hits[:10]], role=c.role)
        if c.place is not None and (c.place.feature in _COARSE_FEATURES or c.role == "region"):
            m.geo_precision = 3
        c.mention = m
        mentions.append(m)
    extra: list[PlaceMention] = []
    for idx, c in enumerate(cands):
        m = c.mention
        assert m is not None
        if c.rel is not None and c.role in ("location", "region"):
            _attach_relation(ctx, cands, idx, extra)
        if "near_prev" in c.extra and m.anchor is None:
            phrase = c.extra["near_prev"]
            sent = ctx.sentence_start(phrase)
            prior = [q.mention for q in cands[:idx] if q.end <= phrase and q.start >= sent
                     and q.mention is not None and q.role == "location"]
            if prior:
                _set_anchor(m, prior[-1], "near", None)
        owner = c.extra.get("possessor")
        if m.place is None and m.anchor is None and owner is not None and owner.mention is not None \
                and owner.mention.place is not None:
            _set_anchor(m, owner.mention, None, None)
        if m.place is None and m.anchor is None and idx and _UNIT_NOUN_OF.fullmatch(text, cands[idx - 1].end, c.start):
            prev = cands[idx - 1].mention
            if prev is not None and prev.place is not None:
                _set_anchor(m, prev, None, None)  # "the Aleppo province village of Al-Tukhar": in the province
        if c.extra.get("inside_next") and idx + 1 < len(cands) and m.anchor is None:
            nxt = cands[idx + 1]
            if nxt.mention is not None and nxt.place is not None and _IN_UNIT_GAP.fullmatch(text, c.end, nxt.start) \
                    and text[c.end] != ",":
                _set_anchor(m, nxt.mention, None, None)
    # A name repeated later is the same place: share the anchor found for one of its mentions,
    # the finest ("Syrias Khan Touman" says the country, "Khan Touman in Aleppo province" more).
    anchored: dict[str, PlaceMention] = {}
    for c in cands:
        m = c.mention
        if m is not None and m.place is None and m.anchor is not None and (
                c.key not in anchored or _anchor_rank(m) < _anchor_rank(anchored[c.key])):
            anchored[c.key] = m
    for c in cands:
        m = c.mention
        if m is None or m.place is not None or c.key not in anchored:
            continue
        src = anchored[c.key]
        if m.anchor is None or (m.direction is None and m.distance_km is None
                                and _anchor_rank(src) < _anchor_rank(m)):
            _set_anchor(m, src.anchor, src.direction, src.distance_km)
    if extra:
        mentions.extend(extra)
        mentions.sort(key=lambda x: (x.start, -x.end))
    return mentions


def _anchor_rank(m: PlaceMention) -> int:
    """How finely a mention's anchor places it: 0 a town (or near one), 1 a first-level unit,
    2 a country, 3 nothing known."""
    a = m.anchor
    p = a.place if a is not None else None
    if p is None:
        return 3
    if p.feature in ("country", "continent"):
        return 2
    return 1 if p.feature == "admin1" or a.role == "region" else 0


def _set_anchor(m: PlaceMention, anchor: PlaceMention | None, direction: str | None, km: float | None) -> None:
    m.anchor, m.direction, m.distance_km = anchor, direction, km
    if m.place is None and anchor is not None:
        m.geo_precision = 2  # ACLED: near a known place


def _attach_relation(ctx: _Ctx, cands: list[_Cand], idx: int, extra: list[PlaceMention]) -> None:
    """Record "direction (distance) of X" on the mention it describes, or as a mention of its own."""
    c = cands[idx]
    m = c.mention
    assert c.rel is not None and m is not None
    rel_start, direction, km = c.rel
    text = ctx.text
    prev = cands[idx - 1] if idx else None
    subject = None
    if prev is not None and prev.mention is not None and (
            re.fullmatch(r"\s*,\s*", text[prev.end:rel_start]) or (
            prev.mention.place is None and _REL_GAP.fullmatch(text, prev.end, rel_start))):
        subject = prev.mention  # "the town of Latamneh, north of Halfaya"; "Adra east of Damascus", Adra unknown
    elif prev is not None:
        sent = ctx.sentence_start(rel_start)
        if prev.start < sent and _SUBJECT_REL.match(text, sent, rel_start):
            # "The clinic was about 10 km west of X": among the places of the preceding
            # sentences, the last unresolved one (what the gazetteer could not place), else the last.
            window_start = ctx.sentence_start(max(0, sent - 1), back=3)
            window = [q.mention for q in cands[:idx] if q.mention is not None and q.role == "location"
                      and q.start >= window_start and q.mention.anchor is None]
            unresolved = [w for w in window if w.place is None]
            subject = (unresolved or window or [None])[-1]
    if subject is not None and subject is not m and subject.anchor is None:
        _set_anchor(subject, m, direction, km)
    elif subject is None and m.place is not None:
        # "north of Hama city": a location of its own, near the anchor.
        extra.append(PlaceMention(rel_start, c.end, text[rel_start:c.end], place=None, anchor=m,
                                  direction=direction, distance_km=km, geo_precision=2))


# ---------------------------------------------------------------------------
# Coordinates
# ---------------------------------------------------------------------------

def locate(mention: PlaceMention) -> tuple[float | None, float | None, int | None, Place | None]:
    """(latitude, longitude, ACLED geo_precision, gazetteer entry) of a mention.

    The place itself (precision 1; 3 for a first-level unit, a region mention or a
    country), else the nearest resolved anchor of its relative expression
    (precision 2, or 3 when the anchor is a unit: "Jobar in northeast Damascus"),
    else (None, None, None, None).
    """
    p = mention.place
    if p is not None:
        if mention.role == "region" or p.feature in _COARSE_FEATURES:
            return p.latitude, p.longitude, 3, p
        return p.latitude, p.longitude, 1, p
    seen: set[int] = set()
    a = mention.anchor
    while a is not None and id(a) not in seen:
        seen.add(id(a))
        if a.place is not None:
            if a.role == "region" or a.place.feature in _COARSE_FEATURES:
                return a.place.latitude, a.place.longitude, 3, a.place
            return a.place.latitude, a.place.longitude, 2, a.place
        a = a.anchor
    return None, None, None, None
