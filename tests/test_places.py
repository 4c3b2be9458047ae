"""Place names: spelling keys, recognition, roles, relative expressions, resolution."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from kharita import places as places_mod
from kharita.doc import Doc, PlaceMention
from kharita.gazetteer import Gazetteer, default_gazetteer
from kharita.models import Report
from kharita.names import name_key, names_match, skeleton_key
from kharita.places import find_places, locate
from kharita.text import split_sentences

FLAGSHIP = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "000_0935f1ffdb46c564.txt"


@pytest.fixture(scope="session")
def gaz() -> Gazetteer:
    return default_gazetteer()


def places(text: str, gaz: Gazetteer) -> list[PlaceMention]:
    doc = Doc(report=Report.create(text))
    doc.sentences = split_sentences(text)
    find_places(doc, gaz)
    for m in doc.places:
        assert text[m.start:m.end] == m.text
    return doc.places


def one(mentions: list[PlaceMention], text: str) -> PlaceMention:
    found = [m for m in mentions if m.text == text]
    assert len(found) == 1, (text, [(m.text, m.role) for m in mentions])
    return found[0]


# -- spelling keys ---------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("Khan Sheikhoun", "Khan Shaykhun"),
    ("Qaboun", "Qabun"),
    ("Latamneh", "Lataminah"),
    ("Latamneh", "Al-Lataminah"),
    ("Taibat al-Imam", "Tayyibat al Imam"),
    ("Deir ez-Zor", "Deir Ezzor"),
    ("Hasakah", "Hasakeh"),
    ("Idleb", "Idlib"),
    ("Dar'a", "Daraa"),
    ("Ţayyibat al Imām", "Tayyibat al-Imam"),
])
def test_known_spelling_pairs_match(a: str, b: str) -> None:
    assert names_match(a, b)


@pytest.mark.parametrize("a, b", [("Hama", "Homs"), ("Jobar", "Jabir"), ("Hama", "Homa"), ("Aleppo", "Halab")])
def test_different_names_do_not_match(a: str, b: str) -> None:
    assert not names_match(a, b)


def test_name_key() -> None:
    assert name_key("Deir ez-Zor") == "deir zor"
    assert name_key("Ţayyibat al Imām") == name_key("Tayyibat al-Imam") == "tayibat imam"
    assert name_key("Khān Shaykhūn") == "khan shaykhun"
    assert name_key("Ma‘arrat an Nu‘mān") == "marat numan"
    assert name_key("AL-BAB") == "bab"
    assert name_key("Al") == "al"  # an article alone is kept
    assert name_key("حماة") == name_key("حماه")


def test_skeleton_key() -> None:
    assert skeleton_key("Khan Sheikhoun") == skeleton_key("Khan Shaykhun") == "khn shkhn"
    assert skeleton_key("Deir Ezzor") == skeleton_key("Dayr az Zawr") == "dr zr"
    assert skeleton_key("Hasakeh") == skeleton_key("Al-Hasakah") == "hsk"


# -- recognition and roles ---------------------------------------------------------------

def test_town_and_region_cue(gaz: Gazetteer) -> None:
    ms = places("Government forces shelled the village of Kafr Zita in northern Hama Province on Tuesday.", gaz)
    kafr = one(ms, "Kafr Zita")
    assert kafr.role == "location" and kafr.place.country_code == "SY" and kafr.place.admin1 == "Hama"
    assert kafr.geo_precision == 1
    hama = one(ms, "Hama")
    assert hama.role == "region" and hama.place.feature == "admin1" and hama.geo_precision == 3
    assert locate(hama)[2] == 3


def test_organisations_are_affiliations(gaz: Gazetteer) -> None:
    ms = places("The Free Aleppo Brigade said its fighters had withdrawn. "
                "Homs's Health Directorate reported two deaths.", gaz)
    assert [(m.text, m.role) for m in ms] == [("Aleppo", "affiliation"), ("Homs", "affiliation")]


def test_roads_are_routes(gaz: Gazetteer) -> None:
    ms = places("Traffic on the Homs-to-Hama highway was halted after an ambush near Rastan.", gaz)
    assert one(ms, "Homs").role == "route" and one(ms, "Hama").role == "route"
    assert one(ms, "Rastan").role == "location"


def test_regions(gaz: Gazetteer) -> None:
    ms = places("Airstrikes hit several towns in southern Idlib Province and the western Aleppo countryside.", gaz)
    assert [(m.text, m.role, m.place.feature) for m in ms] == [
        ("Idlib", "region", "admin1"), ("Aleppo", "region", "admin1")]
    ms = places("Shelling continued across Idlib and Hama provinces.", gaz)
    assert [(m.text, m.role) for m in ms] == [("Idlib", "region"), ("Hama", "region")]


def test_unknown_town_with_relative_expression(gaz: Gazetteer) -> None:
    ms = places("Jets struck the village of Zarbunat al-Sharqi, about 8 km south of Saraqib, at dawn.", gaz)
    village = one(ms, "Zarbunat al-Sharqi")
    assert village.place is None and village.geo_precision == 2
    assert (village.direction, village.distance_km) == ("south", 8.0)
    assert village.anchor is one(ms, "Saraqib")
    lat, lon, precision, entry = locate(village)
    assert precision == 2 and entry.name == "Saraqib" and (lat, lon) == (entry.latitude, entry.longitude)


def test_later_sentence_locates_an_earlier_place(gaz: Gazetteer) -> None:
    ms = places("A rocket hit a clinic near the village of Umm Qurqaz. "
                "The clinic was about 12 kilometres east of Maarat al-Numan.", gaz)
    village = one(ms, "Umm Qurqaz")
    assert village.place is None and village.anchor is one(ms, "Maarat al-Numan")
    assert (village.direction, village.distance_km, village.geo_precision) == ("east", 12.0, 2)
    assert one(ms, "Maarat al-Numan").place.admin1 == "Idlib"


def test_relative_expression_of_its_own(gaz: Gazetteer) -> None:
    ms = places("Rebels advanced to within 3 km north of Hama city.", gaz)
    rel = one(ms, "3 km north of Hama")
    assert rel.place is None and rel.anchor is one(ms, "Hama") and rel.direction == "north"
    assert locate(rel)[2] == 2


def test_list_of_nearby_towns(gaz: Gazetteer) -> None:
    ms = places("Mortar fire hit Kafranbel and nearby villages such as Tal Sheikh Zoubi and Zarbunat al-Sharqi.", gaz)
    anchor = one(ms, "Kafranbel")
    for name in ("Tal Sheikh Zoubi", "Zarbunat al-Sharqi"):
        m = one(ms, name)
        assert m.place is None and m.anchor is anchor and m.direction == "near"


def test_place_inside_a_region(gaz: Gazetteer) -> None:
    ms = places("Rebels attacked positions in Qalamoun Sharqi in northeast Damascus.", gaz)
    m = one(ms, "Qalamoun Sharqi")
    assert m.place is None and m.anchor is one(ms, "Damascus")
    assert locate(m)[0:2] == (m.anchor.place.latitude, m.anchor.place.longitude)


def test_people_months_and_demonyms_are_not_places(gaz: Gazetteer) -> None:
    assert places('"We have nothing left," said Ahmed al-Halabi, a resident of the camp.', gaz) == []
    assert [m.text for m in places("In May, negotiators met again in Geneva.", gaz)] == ["Geneva"]
    assert [m.text for m in places("Syrian and Russian jets bombed Aleppo overnight.", gaz)] == ["Aleppo"]
    ms = places("Dr. Amal Homsi, who runs the ward, said Mr. Halab was wounded in Aleppo.", gaz)
    assert [m.text for m in ms] == ["Aleppo"]


def test_repeated_unknown_name_shares_its_anchor(gaz: Gazetteer) -> None:
    ms = places("Warplanes bombed Wadi Zarqun, west of Jisr al-Shughur. Later, rockets fell on Wadi Zarqun again.", gaz)
    first, second = [m for m in ms if m.text == "Wadi Zarqun"]
    assert first.anchor is second.anchor is one(ms, "Jisr al-Shughur")


# -- resolution among same-name places ----------------------------------------------------

def test_same_name_resolved_by_the_country_named(gaz: Gazetteer) -> None:
    ms = places("Militias clashed in Tripoli, Libya, while a protest took place in Tripoli, Lebanon.", gaz)
    tripolis = [m for m in ms if m.text == "Tripoli"]
    assert [m.place.country_code for m in tripolis] == ["LY", "LB"]


def test_report_focus_decides(gaz: Gazetteer) -> None:
    ms = places("Syrian government forces shelled Tadmur and Sukhnah in the eastern desert of Homs.", gaz)
    assert {m.place.country_code for m in ms if m.place} == {"SY"}
    geneva = one(places("In May, negotiators met again in Geneva.", gaz), "Geneva")
    assert geneva.place.country_code == "CH" and geneva.place.feature == "populated"


def test_plain_name_is_the_populated_place(gaz: Gazetteer) -> None:
    ms = places("Fighting continued in Hama and Idlib on Sunday.", gaz)
    assert [(m.place.geonameid, m.place.feature) for m in ms] == [(170017, "populated"), (169389, "populated")]


def test_fuzzy_spelling_in_the_reports_country(gaz: Gazetteer) -> None:
    ms = places("Syrian troops moved into Taibat al-Imam and then shelled Deir Ezzor.", gaz)
    assert one(ms, "Taibat al-Imam").place.geonameid == 163270
    assert one(ms, "Deir Ezzor").place.admin1 == "Deir ez-Zor"


def test_empty_and_placeless_documents(gaz: Gazetteer) -> None:
    assert places("", gaz) == []
    assert places("nothing capitalised here at all.", gaz) == []


def test_locate() -> None:
    assert locate(PlaceMention(0, 5, "Abdin")) == (None, None, None, None)


# -- the flagship sample (read only when ../shared is present) -----------------------------

@pytest.fixture(scope="module")
def flagship(gaz: Gazetteer) -> tuple[str, list[PlaceMention]]:
    if not FLAGSHIP.exists():
        pytest.skip("../shared is not here: the flagship sample is not available")
    text = FLAGSHIP.read_text(encoding="utf-8")
    return text, places(text, gaz)


def test_flagship_resolved_places(flagship) -> None:
    _, ms = flagship
    want = {"Halfaya": ("Hama", 170044), "Taibat al-Imam": ("Hama", 163270),
            "Khan Sheikhoun": ("Idlib", 168325), "Damascus": ("Damascus", 170654)}
    for name, (admin1, gid) in want.items():
        found = [m for m in ms if m.text == name and m.role == "location"]
        assert found, name
        assert all(m.place is not None and m.place.country_code == "SY" and m.place.admin1 == admin1
                   and m.place.geonameid == gid for m in found), name
    for name in ("Hama", "Idlib"):
        found = [m for m in ms if m.text == name and m.role in ("location", "region")]
        assert found and all(m.place.country_code == "SY" and m.place.admin1 == name for m in found)
    northern = [m for m in ms if m.text == "Hama" and m.role == "region"]
    assert northern and all(m.place.feature == "admin1" and m.geo_precision == 3 for m in northern)


def test_flagship_roles(flagship) -> None:
    text, ms = flagship
    at = {m.start: m for m in ms}
    idlib_army = text.index("Free Idlib Army") + len("Free ")
    assert at[idlib_army].role == "affiliation"
    directorate = re.search(r"Hama.s Healthcare Directorate", text).start()
    assert at[directorate].role == "affiliation"
    highway = text.index("Damascus-to-Aleppo highway")
    assert at[highway].role == "route" and at[highway + len("Damascus-to-")].role == "route"


def test_flagship_unknown_places_and_anchors(flagship) -> None:
    _, ms = flagship
    latamneh = one(ms, "Latamneh")
    assert latamneh.direction == "north" and latamneh.anchor.text == "Halfaya" and latamneh.geo_precision == 2
    abdin = one(ms, "Abdin")
    assert (abdin.direction, abdin.distance_km) == ("west", 10.0) and abdin.anchor.text == "Khan Sheikhoun"
    qaboun = [m for m in ms if m.text == "Qaboun"]
    assert qaboun and all(m.anchor is not None and m.anchor.text == "Damascus" for m in qaboun)
    assert all(m.direction == "northeast" for m in qaboun)
    for name in ("Barzeh", "Jobar"):
        m = one(ms, name)
        assert m.role == "location" and locate(m)[3] is not None and locate(m)[3].admin1 == "Damascus"


# -- geoparsing improvements (measured with `kharita eval geoparse`) ------------------------

def with_demonyms(text: str, gaz: Gazetteer) -> list[PlaceMention]:
    doc = Doc(report=Report.create(text))
    doc.sentences = split_sentences(text)
    find_places(doc, gaz, demonyms=True)
    return doc.places


def test_demonyms_are_country_mentions_only_when_asked(gaz) -> None:
    text = "Syrian and Russian jets struck Saraqib, and Palestinians in Gaza protested. He speaks Arabic and English."
    assert not [m for m in places(text, gaz) if m.role == "demonym"]
    found = {m.text: m for m in with_demonyms(text, gaz) if m.role == "demonym"}
    assert {k: m.place.country_code for k, m in found.items()} == {"Syrian": "SY", "Russian": "RU",
                                                                  "Palestinians": "PS"}
    assert all(m.place.feature == "country" and locate(m)[2] == 3 for m in found.values())
    assert "English" not in found  # a language


def test_two_word_demonyms(gaz) -> None:
    found = [(m.text, m.place.country_code) for m in with_demonyms("Sri Lankan troops met North Korean envoys.", gaz)
             if m.role == "demonym"]
    assert found == [("Sri Lankan", "LK"), ("North Korean", "KP")]


@pytest.mark.parametrize("text, name, state", [
    ("He was born in Morgantown, W.Va., in 1950.", "W.Va.", "West Virginia"),
    ("Sen. Robert C. Byrd, D-W. Va., voted no.", "W. Va.", "West Virginia"),
    ("The plant in Gary, Ind., closed.", "Ind.", "Indiana"),
    ("Protesters marched in Washington, D.C., on Sunday.", "D.C.", "District of Columbia"),
])
def test_us_state_abbreviations(gaz, text, name, state) -> None:
    m = one(places(text, gaz), name)
    assert m.place.feature == "admin1" and m.place.country_code == "US" and m.place.name == state


def test_a_single_dot_abbreviation_needs_a_comma_before_it(gaz) -> None:
    assert not [m for m in places("Mass. was held at the cathedral in Boston.", gaz) if m.text.startswith("Mass")]


def test_state_abbreviation_chooses_the_town(gaz) -> None:
    m = one(places("A fire broke out in Paris, Ill., on Monday.", gaz), "Paris")
    assert m.place.country_code == "US" and m.place.admin1 == "Illinois"


def test_saint_and_mount_abbreviations_join_the_name(gaz) -> None:
    ms = places("Flights from St. Louis to St. Petersburg were cancelled.", gaz)
    assert one(ms, "St. Louis").place.admin1 == "Missouri"
    assert one(ms, "St. Petersburg").place is not None


def test_places_naming_organisations_are_affiliations(gaz) -> None:
    ms = places("The Pittsburgh City Council met. Residents of Pittsburgh protested.", gaz)
    council = [m for m in ms if m.start == 4]
    assert council and council[0].role == "affiliation" and council[0].place.admin1 == "Pennsylvania"
    assert [m for m in ms if m.role == "location" and m.text == "Pittsburgh"]


def test_uppercase_country_abbreviation_is_not_the_pronoun(gaz) -> None:
    m = one(places("US forces said the attack hit us hard near Manbij.", gaz), "US")
    assert m.place.feature == "country" and m.place.country_code == "US"


def test_surnames_from_initials_ages_and_given_names(gaz) -> None:
    text = ("Matthew D. Flores, 26, was shot. Police say Flores knew the man. Andy Trapani produced the film. "
            "Trapani lives in Saratoga.")
    names = {m.text for m in places(text, gaz)}
    assert "Flores" not in names and "Trapani" not in names


def test_a_name_before_a_number_is_a_designation(gaz) -> None:
    names = {m.text for m in places("Cub Scouts of Pack 122 collected food in Norfolk, Nebraska.", gaz)}
    assert "Pack" not in names and "Norfolk" in names


def test_multiword_names_of_common_words(gaz) -> None:
    m = one(places("The festival is today in Rock Hill, with music downtown.", gaz), "Rock Hill")
    assert m.place.country_code == "US"
    assert not [m for m in places("Officials at the White House said so.", gaz) if m.text == "White House"]


# -- continents, counties, capitals, names that support each other -------------------------

def test_continents_are_their_own_role(gaz) -> None:
    ms = places("Ministers from across Africa met EU officials; aid to Asia was cut.", gaz)
    found = {m.text: m for m in ms}
    assert {k: (m.role, m.place.name) for k, m in found.items()} == {
        "Africa": ("continent", "Africa"), "EU": ("continent", "Europe"), "Asia": ("continent", "Asia")}
    assert all(locate(m)[2] == 3 for m in found.values())  # a region, never a point


def test_continent_demonyms(gaz) -> None:
    text = "European diplomats and African Americans spoke with Latin American envoys."
    found = [(m.text, m.place.name) for m in with_demonyms(text, gaz) if m.role == "demonym"]
    assert found == [("European", "Europe"), ("Latin American", "South America")]


def test_us_county_names(gaz) -> None:
    m = one(places("Deputies searched a farm in Licking County on Tuesday.", gaz), "Licking County")
    assert (m.place.feature, m.place.admin1, m.role) == ("admin2", "Ohio", "location")
    assert locate(m)[2] == 3


def test_capital_preferred(gaz) -> None:
    m = one(places("Lawmakers in Washington debated the bill.", gaz), "Washington")
    assert m.place.admin1 == "District of Columbia"
    m = one(places("Wildfires spread across eastern Washington state near Spokane.", gaz), "Washington")
    assert m.place.feature == "admin1"


def test_names_near_each_other_support_each_other(gaz) -> None:
    text = ("Farmers from Paris and Henry County met at the fairgrounds in Tennessee on Monday. "
            "Paris officials said the Henry County fair would open in June.")
    ms = places(text, gaz)
    assert {(m.text, m.place.admin1) for m in ms if m.place and m.text != "Tennessee"} == {
        ("Paris", "Tennessee"), ("Henry County", "Tennessee")}


# -- Syrian reports: possessives, fused articles, metonymy, foreign namesakes --------------

def test_possessive_without_apostrophe_splits_off_the_country(gaz) -> None:
    text = "Jets struck a market in Lebanons Tripoli and a bakery in Syrias Manbij on Sunday."
    found = places(text, gaz)
    assert one(found, "Manbij").place.country_code == "SY"
    assert one(found, "Syrias").place.feature == "country"
    assert one(found, "Tripoli").place.country_code == "LB"  # the possessor's Tripoli, not Libya's
    assert not [m for m in found if m.text in ("Syrias Manbij", "Lebanons Tripoli")]


def test_possessive_with_apostrophe(gaz) -> None:
    found = places("Shelling hit Syria's Idlib overnight, residents said.", gaz)
    assert one(found, "Idlib").place.admin1 == "Idlib"


def test_unknown_place_of_a_possessor_is_anchored_to_it(gaz) -> None:
    found = places("Gunmen were killed in Syrias Khirbet Zoufara on Monday.", gaz)
    m = one(found, "Khirbet Zoufara")
    assert m.place is None and m.anchor is not None and m.anchor.place.country_code == "SY"


def test_fused_article_spellings_of_deir_ez_zor(gaz) -> None:
    text = ("Jets pounded Deir Ezzor on Monday. Fighting spread across Deir Ez-Zor province, "
            "and shells fell on Deir el-Zour city.")
    found = places(text, gaz)
    for name in ("Deir Ezzor", "Deir Ez-Zor", "Deir el-Zour"):
        assert one(found, name).place.admin1 == "Deir ez-Zor", name
    assert one(found, "Deir Ez-Zor").role == "region"


def test_capital_standing_for_its_government_is_an_affiliation(gaz) -> None:
    text = ("Moscow defended its Damascus ally at the council. Damascus said the footage was staged. "
            "The Damascus regime denied any role, and Moscow's support did not waver. "
            "Washington announced new sanctions on Tuesday, under a truce brokered by Moscow and Ankara.")
    found = places(text, gaz)
    assert {m.role for m in found if m.text in ("Damascus", "Moscow", "Washington", "Ankara")} == {"affiliation"}


def test_capital_as_a_place_stays_a_location(gaz) -> None:
    text = ("Activists in Damascus said two mortar rounds fell. Rebels were killed east of Damascus "
            "said the monitoring group. Protesters marched in Washington on Saturday.")
    found = places(text, gaz)
    assert all(m.role == "location" for m in found if m.text in ("Damascus", "Washington"))


def test_a_person_named_like_a_small_capital_is_no_affiliation(gaz) -> None:
    found = places("\"We are investigating,\" Douglas said on Friday.", gaz)
    assert not [m for m in found if m.text == "Douglas"]


def test_led_and_backed_make_an_affiliation(gaz) -> None:
    text = "The US-led coalition and Iran-backed militias fought near Raqqa in Syria."
    found = places(text, gaz)
    assert one(found, "US").role == "affiliation"
    assert one(found, "Iran").role == "affiliation"
    assert one(found, "Syria").role == "location"


def test_based_keeps_the_place(gaz) -> None:
    found = places("The Britain-based group counted the dead.", gaz)
    assert one(found, "Britain").role == "location"


def test_headline_source_after_the_place(gaz) -> None:
    found = places("Air strikes kill 20 civilians in Syria Monitor AFP The toll rose on Monday.", gaz)
    assert one(found, "Syria").role == "location"


def test_village_of_with_capitalised_article(gaz) -> None:
    found = places("Families fled the Hama province village of Al-Zurbiyeh on Tuesday.", gaz)
    m = one(found, "Al-Zurbiyeh")
    assert m.place is None and m.role == "location"
    assert m.anchor is not None and m.anchor.place.admin1 == "Hama"
    assert locate(m)[2] == 3  # at the province


def test_foreign_namesake_needs_its_country_in_a_report_on_one_country(gaz) -> None:
    text = ("Warplanes struck Idlib and Hama in Syria on Monday. Shelling hit Homs and Aleppo. "
            "Rebels later entered Kafr Zibad, a village near Saraqib.")
    m = one(places(text, gaz), "Kafr Zibad")
    assert m.place is None  # not the Palestinian village of that name


def test_namesake_in_another_unit_than_the_one_named(gaz) -> None:
    found = places("Rockets hit the Salah Eddin neighbourhood in Aleppo on Friday.", gaz)
    m = one(found, "Salah Eddin")
    assert m.place is None and m.anchor is not None and m.anchor.text == "Aleppo"


def test_adra_is_not_daraa(gaz) -> None:
    text = ("Government forces shelled Douma and Harasta in Syria on Monday. Rebels hit Damascus and Homs. "
            "Troops ambushed rebels near the town of Adra, east of Damascus.")
    found = places(text, gaz)
    adra = [m for m in found if m.text == "Adra"]
    assert not adra or adra[0].place is None or adra[0].place.admin1 != "Daraa"


# The fast paths of the stage must give what the plain definitions give.
_FAST_PATH_TEXT = (
    "Shelling hit al-Rashideen and Bab al-Hawa near the Turkish border, said Dr. Omar.\n"
    "Mr Hadi's aides—'O'Neill' and ‘President Ames’—met in Kafr Nabl; co-op owners re-opened "
    "the bus depot. the town of Tel Abyad, ash-Shaddadi, El Bab, de la Cruz and U.S.-backed forces "
    "in W. Va. and Ind. left. Word-final words: bus, us, use, ab, a b, x_y, it’s, don't, -us- end")


def test_lower_words_by_word_match_the_full_scan() -> None:
    from kharita.places import _LOWER_WORDS, _LowerWords

    everything = set(_LOWER_WORDS.findall(_FAST_PATH_TEXT))
    lazy = _LowerWords(_FAST_PATH_TEXT)
    asked = {w.lower() for w in re.findall(r"[\w'’-]+", _FAST_PATH_TEXT)} | everything | {"", "x", "Bus", "usé"}
    assert everything and all((w in lazy) == (w in everything) for w in asked)
    assert "bus" in lazy and "us" in lazy and "town" in lazy and "rashideen" not in lazy


def test_token_pattern_matches_the_plain_alternation() -> None:
    from kharita.places import _CONNECTORS, _TOKEN

    plain = re.compile(
        r"U\.S\.(?:A\.)?|U\.K\.|(?<![\w'’‘ʿʾ`])(?:[^\W\d_a-z][^\W\d_]*(?:['’‘ʿʾ`][^\W\d_]+)*|(?:"
        + "|".join(sorted(_CONNECTORS, key=len, reverse=True)) + r")(?=[ \-\u2010\u2011][^\W\d_a-z]))")
    # A connector comes as a group of the match of the word after it.
    spans = [span for m in _TOKEN.finditer(_FAST_PATH_TEXT)
             for span in ((m.span(m.lastindex), m.span()) if m.lastindex else (m.span(),))]
    assert spans == [m.span() for m in plain.finditer(_FAST_PATH_TEXT)]
    assert "al" in {_FAST_PATH_TEXT[a:b] for a, b in spans} and "ash" in {_FAST_PATH_TEXT[a:b] for a, b in spans}


def test_token_pattern_matches_the_plain_alternation_on_random_text() -> None:
    import random

    from kharita.places import _CONNECTORS, _TOKEN

    plain = re.compile(
        r"U\.S\.(?:A\.)?|U\.K\.|(?<![\w'’‘ʿʾ`])(?:[^\W\d_a-z][^\W\d_]*(?:['’‘ʿʾ`][^\W\d_]+)*|(?:"
        + "|".join(sorted(_CONNECTORS, key=len, reverse=True)) + r")(?=[ \-\u2010\u2011][^\W\d_a-z]))")
    pieces = ["al", "ash", "della", "bin", "y", "of", "the", "upon", "xal", "Al", "Aleppo", "U.S.", "U.K.", "U.S.A.",
              "É", "é", "ß", "٣", "2", "_", " ", "-", "\u2011", "'", "’", ".", "\n", "Kafr", "O'Neill", "x"]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        spans = [span for m in _TOKEN.finditer(text)
                 for span in ((m.span(m.lastindex), m.span()) if m.lastindex else (m.span(),))]
        assert spans == [m.span() for m in plain.finditer(text)], text


def test_word_before_matches_its_plain_definition() -> None:
    import random

    def plain(before: str, dot: bool) -> str:
        end = len(before)
        while end and before[end - 1].isspace():
            end -= 1
        if dot and end and before[end - 1] == ".":
            end -= 1
        elif end == len(before):
            return ""
        start = end
        while start and before[start - 1].isalpha():
            start -= 1
        if start and (before[start - 1].isalnum() or before[start - 1] == "_"):
            return ""
        return before[start:end]

    rng = random.Random(3)
    alphabet = "aZé²_.-\t\n\u00a03ßK\u212a’ "
    for _ in range(20000):
        before = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        for dot in (False, True):
            assert places_mod._word_before(before, dot) == plain(before, dot), (before, dot)


def test_long_lower_word_finds_what_the_long_word_count_says() -> None:
    # `_sentence_info`: a sentence's long words are all capitalised iff no long lower-case word is found.
    import random

    rng = random.Random(5)
    for _ in range(5000):
        text = "".join(rng.choice(["Army", "army", "Kills", "in", "é", "ab", "McDonald", " ", "-", "x", "abcd", "Q"])
                       for _ in range(rng.randint(1, 10)))
        words = places_mod._LONG_WORD.findall(text)
        caps = places_mod._LONG_CAP_WORD.findall(text)
        assert (places_mod._LONG_LOWER_WORD.search(text) is None) == (len(caps) == len(words)), text


def test_state_abbreviation_pattern_matches_the_look_behind_first_form() -> None:
    from kharita.places import _state_abbreviations

    _, pattern = _state_abbreviations()
    plain = re.compile(r"(?<![\w.])[A-Z][a-z]{0,4}\.(?:\s?[A-Z][a-z]{0,3}\.){0,2}(?!\w)")
    found = [m.span() for m in pattern.finditer(_FAST_PATH_TEXT)]
    assert found and found == [m.span() for m in plain.finditer(_FAST_PATH_TEXT)]


def test_title_before_a_name_makes_it_a_person(gaz) -> None:
    text = "Dr. Aleppo and Gen Homs met. Rebels shelled Homs and Aleppo."
    found = [(m.text, m.start) for m in places(text, gaz) if m.role == "location"]
    assert found == [("Homs", text.rindex("Homs")), ("Aleppo", text.rindex("Aleppo"))]


# -- context that constrains resolution ----------------------------------------------------

def test_relative_expression_after_a_name_rules_out_far_namesakes(gaz) -> None:
    # "Adra" is also an old name of Daraa, 100 km south of Damascus: not east of it.
    found = places("Syrian troops fought rebels in Homs and Hama. An ambush hit a convoy outside "
                   "the town of Adra east of Damascus before dawn.", gaz)
    adra = one(found, "Adra")
    assert adra.place is None and adra.anchor is one(found, "Damascus") and adra.direction == "east"
    assert locate(adra)[2] == 2


def test_relative_expression_keeps_a_namesake_that_fits(gaz) -> None:
    found = places("Syrian rebels shelled Homs. Mortars also fell on Harasta, northeast of Damascus.", gaz)
    harasta = one(found, "Harasta")
    assert harasta.place is not None and harasta.place.admin1 == "Rif Dimashq"


def test_distant_close_spelling_gives_way_to_the_anchor(gaz) -> None:
    # The nearest spelling the gazetteer has lies in As-Suwayda, 400 km from Aleppo.
    found = places("Fighting in Syria went on for a third day around Al Maleh north of Aleppo. "
                   "Troops said Al Maleh would fall soon.", gaz)
    first, second = [m for m in found if m.text == "Al Maleh"]
    assert first.place is None and first.anchor is one(found, "Aleppo") and first.direction == "north"
    assert second.place is None and locate(second)[3].admin1 == "Aleppo"


def test_relative_expression_keeps_a_well_known_city_beyond_the_radius(gaz) -> None:
    found = places("Iraqi forces pressed on towards Mosul, north of Baghdad, after taking Tikrit.", gaz)
    mosul = one(found, "Mosul")
    assert mosul.place is not None and mosul.place.country_code == "IQ"


def test_fits_relation_geometry() -> None:
    from kharita.doc import Place
    from kharita.places import _fits_relation

    centre = Place(1, "Centre", 35.0, 38.0, "SY", "populated", "A")
    east = Place(2, "East", 35.0, 38.5, "SY", "populated", "A")  # ~45 km east
    south = Place(3, "South", 34.2, 37.95, "SY", "populated", "B")  # ~90 km south
    far = Place(4, "Far", 32.0, 38.0, "SY", "populated", "C")  # ~330 km south
    assert _fits_relation(east, centre, "east", None) and not _fits_relation(east, centre, "west", None)
    assert _fits_relation(south, centre, "south", None) and not _fits_relation(south, centre, "east", None)
    assert _fits_relation(south, centre, "near", None) and not _fits_relation(far, centre, "south", None)
    assert _fits_relation(east, centre, "east", 40.0) and not _fits_relation(south, centre, "south", 10.0)
    assert _fits_relation(far, centre, "south", None, well_known=True)
    assert not _fits_relation(far, centre, "north", None, well_known=True)


def test_glued_possessive_of_a_city_in_a_title_case_lead(gaz) -> None:
    # The lead is a headline glued to the body: every long word capitalised.
    found = places("Rockets Hit Aleppos Salah Eddin. Two people died when rockets hit the "
                   "Salah Eddin district in Aleppo.", gaz)
    assert all(m.place is None or m.place.country_code == "SY" for m in found)
    assert one(found, "Aleppos").place.name == "Aleppo"
    first = next(m for m in found if m.text == "Salah Eddin")
    assert first.start < 40 and first.place is None and locate(first)[3].name == "Aleppo"


def test_a_unit_ruling_out_a_namesake_rules_it_out_for_the_whole_report(gaz) -> None:
    found = places("Shells landed on Salah Eddin overnight. Residents of the Salah Eddin district in Aleppo "
                   "said dozens had died there this year.", gaz)
    for m in found:
        if m.text == "Salah Eddin":
            assert m.place is None or m.place.country_code == "SY", m


def test_acronym_after_a_place_introduced_by_in(gaz) -> None:
    found = places("Two civilians died in Raqqa SDF officials said on Sunday.", gaz)
    assert one(found, "Raqqa").role == "location"
    found = places("A fire broke out at the Raqqa SDF office.", gaz)
    assert all(m.role != "location" for m in found if m.text == "Raqqa")


def test_golan_heights_is_syrian_quneitra(gaz) -> None:
    found = places("Israeli jets struck army positions near the Golan Heights overnight.", gaz)
    golan = one(found, "Golan Heights")
    assert golan.role == "location" and (golan.place.country_code, golan.place.admin1) == ("SY", "Quneitra")


def test_repeated_unknown_name_takes_its_finest_anchor(gaz) -> None:
    text = ("Rebels Lose Syrias Tell Warda. Troops took Tell Warda in the southern province of Idlib on "
            "Friday. Tell Warda had been held by rebels since 2013.")
    found = places(text, gaz)
    wardas = [m for m in found if m.text == "Tell Warda"]
    assert len(wardas) == 3
    assert all(m.place is None and locate(m)[3] is not None and locate(m)[3].admin1 == "Idlib" for m in wardas)


@pytest.mark.parametrize("text, name, admin1", [
    ("Barrel bombs fell on villages in rural Hama on Sunday.", "Hama", "Hama"),
    ("Air Raids Kill Nine in Rural Idlib", "Idlib", "Idlib"),
    ("Shelling hit farms in rural Damascus and in Homs.", "Damascus", "Rif Dimashq"),
    ("Shelling hit farms in the Damascus countryside.", "Damascus", "Rif Dimashq"),
    ("Shelling hit farms in the countryside of Aleppo.", "Aleppo", "Aleppo"),
])
def test_rural_and_countryside_name_the_unit(gaz, text: str, name: str, admin1: str) -> None:
    m = one(places(text, gaz), name)
    assert m.role == "region" and m.place.feature == "admin1" and m.place.admin1 == admin1


def test_rural_before_a_town_is_not_its_province(gaz) -> None:
    m = one(places("The barn stood on a farm in rural Paris, Texas, near the highway.", gaz), "Paris")
    assert m.role == "location" and m.place.feature == "populated"


def test_title_case_first_sentence_is_read_as_a_headline(gaz) -> None:
    found = places("Troops Advance in Latakia Seize Two Hills. The army said fighting went on.", gaz)
    assert one(found, "Latakia").place.admin1 == "Latakia"


@pytest.mark.parametrize("pattern, words", [
    (places_mod._PLACE_NOUN_OF, places_mod._PLACE_NOUN_OF_WORDS),
    (places_mod._REL_DIRECTION, places_mod._REL_DIRECTION_WORDS),
    (places_mod._REL_NEAR, places_mod._REL_NEAR_WORDS),
    (places_mod._LIST_AFTER_NOUN, places_mod._LIST_AFTER_NOUN_WORDS),
])
def test_searches_before_a_name_skip_only_what_cannot_match(pattern: re.Pattern[str], words: tuple[str, ...]) -> None:
    # The word filter is a shortcut: the result is the pattern's own on every text, matching or not.
    befores = ["shelling hit the town of ", "in the Village Of\n", "north of ", "about 5 km North-East of ",
               "on the outskirts of ", "close  to the  village of ", "nearby towns like ", "villages such as ",
               "camps including ", "he said of ", "across the river from ", "", "of ", "the neighbourhoods of ",
               "the provinĉe of ", "Nearby \u212aamps like ", "north\u00a0of ", "the ſuburbs of ", "next to "]
    for before in befores:
        for text in (before, "Reports say " + before, before.upper()):
            expected = pattern.search(text)
            got = places_mod._search_before(pattern, words, text)
            assert (got and got.span()) == (expected and expected.span()), text


def test_facts_of_hits_follow_the_tuple(gaz: Gazetteer) -> None:
    def plain(hits: tuple) -> dict:  # the facts, by their definitions
        return {
            "major": any(places_mod._major(p) for p, _ in hits),
            "country": any(p.feature == "country" for p, _ in hits),
            "unit": any(p.feature in ("country", "admin1") for p, _ in hits),
            "continent": any(p.feature == "continent" for p, _ in hits),
            "admin1": any(p.feature == "admin1" for p, _ in hits),
            "voter": any(p.feature in ("country", "admin1") or p.population >= 100_000 for p, _ in hits),
            "known_main": any(main and (p.population >= 50_000 or p.feature in ("country", "admin1"))
                              for p, main in hits),
            "max_population": max((p.population for p, _ in hits), default=0)}

    def facts(hits: tuple) -> dict:
        f = places_mod._hit_facts(hits)
        assert f.hits is hits
        return {k: getattr(f, k) for k in plain(hits)}

    syria = gaz.lookup_keys(["syria"])["syria"]
    hama = gaz.lookup_keys(["hama"])["hama"]
    europe = gaz.lookup_keys(["europe"])["europe"]
    assert facts(syria) == plain(syria) and facts(syria)["country"] and facts(syria)["major"]
    assert facts(hama) == plain(hama) and facts(europe) == plain(europe) and facts(europe)["continent"]
    # A filtered copy (as resolution makes) is judged on its own entries.
    populated = tuple(h for h in hama if h[0].feature == "populated")
    assert facts(populated) == plain(populated) and not facts(populated)["unit"]
    assert facts(()) == plain(()) and not any(facts(()).values())
    # The capital test is worked out for the capitals asked about.
    ctx = SimpleNamespace(capitals=gaz.capitals())
    damascus = gaz.lookup_keys(["damascus"])["damascus"]
    assert places_mod._metonymic_capital(ctx, SimpleNamespace(hits=damascus))
    assert not places_mod._metonymic_capital(SimpleNamespace(capitals=frozenset()), SimpleNamespace(hits=damascus))


