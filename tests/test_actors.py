from kharita import actors
from kharita.doc import Doc, Place, PlaceMention
from kharita.lexicon import fold
from kharita.models import Report

IDLIB = Place(169389, "Idlib", 35.93, 36.63, "SY", "populated", admin1="Idlib")


def named(sentence: str, about_syria: bool = True):
    doc = Doc(Report.create(sentence))
    if about_syria:
        doc.places.append(PlaceMention(0, 0, "", place=IDLIB))
    actors.annotate(doc, fold(doc.text))
    return [(m.text, m.actor.name) for m in doc.actors]


def test_syrian_pack_normalises_the_many_names_of_the_government():
    assert named("The regime and pro-Assad forces shelled the town.") == [
        ("The regime", "Military Forces of Syria (2000-)"),
        ("pro-Assad forces", "Military Forces of Syria (2000-)"),
    ]


def test_state_forces_from_any_demonym():
    assert named("Russian warplanes and Turkish troops were seen.") == [
        ("Russian warplanes", "Military Forces of Russia"),
        ("Turkish troops", "Military Forces of Turkey"),
    ]


def test_conflict_pack_applies_only_to_its_country():
    assert named("Rebels attacked the base.")[0][1] == "Opposition Rebels (Syria)"
    assert named("Rebels attacked the base.", about_syria=False)[0][1] == "Rebel Forces ({country})"


def test_armed_groups_and_their_aliases():
    assert [name for _, name in named("HTS, Daesh and the Free Idlib Army fought the SDF.")] == [
        "Hayat Tahrir al Sham", "Islamic State (Syria)", "Free Idlib Army", "SDF: Syrian Democratic Forces",
    ]


def test_names_inter_codes_and_sides_depend_on_the_event_country():
    doc = Doc(Report.create("Russian warplanes struck."))
    actors.annotate(doc, fold(doc.text))
    russia = doc.actors[0].actor
    assert actors.inter_code(russia, "RU") == 1
    assert actors.inter_code(russia, "SY") == 8  # a state's forces abroad are external forces
    assert actors.side(russia, "SY") == "government"  # Russia fights on the government side in Syria
    assert actors.side(russia, "UA") == "external"
    civilians = actors.Actor("Civilians ({country})", 7, "civilian")
    assert actors.resolve_name(civilians, "SY") == "Civilians (Syria)"


def test_a_generic_word_after_a_named_group_belongs_to_it():
    assert named("ISIL terrorists attacked the base.") == [("ISIL terrorists", "Islamic State (Syria)")]
    assert named("Unknown gunmen attacked the base.") == [("Unknown gunmen", "Unidentified Armed Group ({country})")]


def test_armed_forces_of_a_country():
    assert named("The Syrian Armed Forces and Russian aerospace forces were seen.") == [
        ("Syrian Armed Forces", "Military Forces of Syria (2000-)"),
        ("Russian aerospace forces", "Military Forces of Russia"),
    ]


def test_focus_country_weighs_towns_over_country_names():
    doc = Doc(Report.create("US strikes in Idlib."))
    us = Place(6252001, "United States", 39.8, -98.5, "US", "country")
    doc.places = [PlaceMention(0, 2, "US", place=us), PlaceMention(0, 2, "US", place=us),
                  PlaceMention(13, 18, "Idlib", place=IDLIB)]
    assert actors.focus_country(doc) == "SY"
