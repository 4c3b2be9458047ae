"""The `events` stage: ACLED events from triggers, with their actors, place, date,
weapons and figures, each field citing the spans that support it.

One pass over the sentences. A sentence with a trigger becomes an event draft; a
sentence that only adds detail ("A first responder said four patients were killed")
or names no place of its own ("multiple raids killed three doctors") enriches the
event of the sentences just before it. Drafts about the same happening (same
sub-event type, place and date) are merged before they become `Event`s.

Within a sentence, a trigger's type may come from its context: a territorial verb by
the agent's side, an attack by what it hits (a checkpoint: a fight; a village: an attack
on civilians), a crowd's event by what the crowd did or met (the ACLED Codebook's order:
its own violence, excessive force, intervention, a peaceful protest), and a verb by its
object a few words away ("two caches of rifles were discovered"). A headline or lead
that places its event only in a country, or nowhere, takes the place the next sentence
gives (telling it again, or opening with it: "The killings took place in ..."), or that
of the finer event the report tells of a compatible kind within a day of it, or else
that of a headline naming one place; photo captions and tag lists do not lead a report;
a clause of "as" or "amid" is the setting, not the event, and names no place of it; an
event told with "also" or "elsewhere" is another one.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache

from . import actors as actor_rules
from . import background
from .dates import since_clause
from .doc import (
    Actor,
    ActorMention,
    CasualtyMention,
    DateMention,
    Doc,
    PlaceMention,
    Sentence,
    TriggerMention,
    WeaponMention,
)
from .lexicon import DictionarySet, Match, PhraseMatcher, expand, fold, load_data, preload
from .merge import acled_figure
from .names import names_match
from .models import Claim, Event, Span
from .text import is_boilerplate, is_caption, is_heading

# How many sentences back a detail-only sentence may attach to an event.
CONTEXT_WINDOW = 2
# How close (characters) a hypothetical cue must stand before a trigger to void it.
MODAL_REACH = 40
NOTES_MAX = 400


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    sub_event_type: str | None = None
    cls: str | None = None
    fallback: str | None = None
    air_only: bool = False
    accident: bool = False  # the fallback holds only if no accident is told ("a gas leak")


@cache
def taxonomy() -> dict[str, dict]:
    return load_data("acled.yaml")["sub_event_types"]


@cache
def _precedence() -> dict[str, int]:
    return {name: rank for rank, name in enumerate(load_data("acled.yaml")["precedence"])}


@cache
def _separate() -> frozenset[str]:
    return frozenset(load_data("acled.yaml")["separate_events"])


def _trigger_entries() -> list[tuple[str, TriggerSpec]]:
    entries = []
    for group in load_data("triggers.yaml")["triggers"]:
        spec = TriggerSpec(group.get("sub_event_type"), group.get("class") or ("defer" if group.get("defer") else None),
                           group.get("fallback"), group.get("air_only", False), group.get("accident", False))
        entries.extend((phrase, spec) for phrase in group["phrases"])
    return entries


@dataclass(frozen=True, slots=True)
class VerbObjectRule:
    sub_event_type: str | None
    reach: int
    cls: str | None = None  # "territory": the type follows the agent's side


@cache
def _verb_object_rules() -> tuple[VerbObjectRule, ...]:
    return tuple(VerbObjectRule(r.get("sub_event_type"), r.get("reach", 60), r.get("class"))
                 for r in load_data("triggers.yaml")["verb_object"])


def _verb_object_phrases() -> tuple[dict[str, frozenset[int]], dict[str, frozenset[int]]]:
    """The verbs and the objects of the verb-object rules of triggers.yaml, folded, each
    with the indices of the rules it serves (a phrase may serve several)."""
    verbs: dict[str, set[int]] = {}
    objects: dict[str, set[int]] = {}
    for index, rule in enumerate(load_data("triggers.yaml")["verb_object"]):
        for pattern in rule["verbs"]:
            for phrase in expand(pattern):
                verbs.setdefault(fold(phrase), set()).add(index)
        for pattern in rule["objects"]:
            for phrase in expand(pattern):
                objects.setdefault(fold(phrase), set()).add(index)
    return {k: frozenset(v) for k, v in verbs.items()}, {k: frozenset(v) for k, v in objects.items()}


@preload
@cache
def _accident_matcher() -> PhraseMatcher[bool]:
    return PhraseMatcher((cue, True) for cue in load_data("triggers.yaml")["accident_cues"])


ACCIDENT_REACH = 150  # characters either side of a blast where its cause may be told


def _accident(folded: str, at: int) -> bool:
    start, end = max(0, at - ACCIDENT_REACH), at + ACCIDENT_REACH
    return bool(_accident_matcher().find(folded[start:end], folded[start:end]))


@preload
@cache
def _air_matcher() -> PhraseMatcher[bool]:
    return PhraseMatcher((cue, True) for cue in load_data("triggers.yaml")["air_cues"])


def _weapon_entries() -> list[tuple[str, tuple[str, str]]]:
    entries = []
    for name, spec in load_data("weapons.yaml")["weapons"].items():
        entries.extend((phrase, (name, spec["category"])) for phrase in spec["phrases"])
    return entries


def _phrase_table(entries: Iterable[tuple[str, object]]) -> dict[str, object]:
    """A dictionary's phrases keyed as `PhraseMatcher` keys them: each brace expansion,
    folded; a phrase listed twice keeps its later value."""
    table = {}
    for phrase, value in entries:
        for variant in expand(phrase):
            if key := fold(variant):
                table[key] = value
    return table


# The dictionaries the events stage matches over a whole report.
_CUE_KINDS = ("triggers", "weapons", "verbs", "objects", "modal", "air")


@preload
@cache
def _cue_matcher() -> DictionarySet[object]:
    """The `_CUE_KINDS` dictionaries in one automaton, so that one walk over a report
    finds the phrases of all of them (six walks cost more than all their matches)."""
    cues = load_data("triggers.yaml")
    verbs, objects = _verb_object_phrases()
    tables = {"triggers": _phrase_table(_trigger_entries()), "weapons": _phrase_table(_weapon_entries()),
              "verbs": verbs, "objects": objects, "modal": _phrase_table((cue, True) for cue in cues["modal_cues"]),
              "air": _phrase_table((cue, True) for cue in cues["air_cues"])}
    return DictionarySet({kind: tables[kind].items() for kind in _CUE_KINDS})


def find_cues(folded: str) -> dict[str, list[Match]]:
    """Each of the `_CUE_KINDS` dictionaries' matches in a folded report, as a
    `PhraseMatcher` of that dictionary alone finds them: on word boundaries,
    non-overlapping, leftmost-longest, in text order."""
    return _cue_matcher().find(folded)


@cache
def _victim_classes() -> dict[str, dict]:
    return load_data("quantities.yaml")["victims"]


def _is_civilian_victim(casualty: CasualtyMention) -> bool:
    return bool(_victim_classes().get(casualty.victims or "", {}).get("civilian"))


_WEAPON_TYPES = {
    "grenade": "Grenade",
    "chemical": "Chemical weapon",
    "air": "Air/drone strike",
    "artillery": "Shelling/artillery/missile attack",
    "explosive": "Remote explosive/landmine/IED",
}
_TERRITORY_BY_AGENT_AFTER = ("fell to", "fallen to", "falls to")


@dataclass
class Draft:
    """An event being assembled from one or more sentences."""

    sub_event_type: str
    sentences: list[Sentence]
    triggers: list[TriggerMention]
    place: PlaceMention | None = None
    date: DateMention | None = None
    agents: list[ActorMention] = field(default_factory=list)
    targets: list[ActorMention] = field(default_factory=list)
    weapons: list[WeaponMention] = field(default_factory=list)
    casualties: list[CasualtyMention] = field(default_factory=list)
    extra_places: list[PlaceMention] = field(default_factory=list)  # region cues that locate the place
    caption: bool = False  # told only by a photo caption
    dateline: bool = False  # its date is only the report's dateline
    campaign: bool = False  # an ongoing campaign ("hit by air strikes since 2015"): no event

    def absorb(self, other: "Draft") -> None:
        for name in ("sentences", "triggers", "agents", "targets", "weapons", "casualties", "extra_places"):
            mine = getattr(self, name)
            mine.extend(x for x in getattr(other, name) if x not in mine)
        if self.date is None:
            self.date, self.dateline = other.date, other.dateline
        self.caption = self.caption and other.caption


class _Sentence:
    """The annotations of one sentence, gathered once. What only a sentence with an event
    word needs (its air cue, its armed actors) is worked out when first asked for: most
    sentences have none."""

    def __init__(self, doc: Doc, sentence: Sentence, folded: str, found: dict[str, list] | None = None) -> None:
        self.sentence = sentence
        self.text, self.folded = doc.text, folded
        if found is None:  # one sentence on its own: gather its mentions here
            found = _by_sentence([sentence], _document_lists(doc, folded))
            found = {name: lists[0] for name, lists in found.items()}
        self.verbs = found["verbs"]
        self.objects = found["objects"] if self.verbs else []
        self.places = [p for p in found["places"] if p.role in ("location", "region")]
        self.demonyms = [p for p in found["places"] if p.role == "demonym" and p.place is not None]
        self.actors = found["actors"]
        self.dates = found["dates"]
        self.weapons = found["weapons"]
        self.casualties = found["casualties"]
        self.sources = found["sources"]
        self.datelines = found["datelines"]
        self.modal = found["modal"]
        self.all_triggers = found["triggers"]
        self.triggers = [t for t in self.all_triggers if not _is_modal(t, self.modal, doc.text)] \
            if self.all_triggers else []
        self.published = doc.report.published
        self._since: dict[int, int | None] | None = None
        self._air = found["air"]
        self._air_cue: bool | None = None
        self._armed: list[ActorMention] | None = None
        self._armed_alive: list[ActorMention] | None = None

    @property
    def air_cue(self) -> bool:
        if self._air_cue is None:
            self._air_cue = bool(self._air) or any(a.actor.kind == "air" for a in self.actors) \
                or any(w.category == "air" for w in self.weapons)
        return self._air_cue

    def since_clause(self, d: DateMention) -> int | None:
        """Where the clause of "since" starts that the date closes ("since the war began
        in 2011"), or None (see `dates.since_clause`)."""
        if self._since is None:
            self._since, floor = {}, self.sentence.start
            for x in self.dates:
                self._since[x.start] = None if x.ongoing else since_clause(self.folded, x.start, floor)
                floor = x.end
        return self._since.get(d.start)

    @property
    def armed(self) -> list[ActorMention]:
        if self._armed is None:
            self._armed = [a for a in self.actors if _is_armed(a)]
        return self._armed

    @property
    def armed_alive(self) -> list[ActorMention]:
        """The armed actors not counted among the dead (see `_among_dead`)."""
        if self._armed_alive is None:
            self._armed_alive = [a for a in self.armed if not _among_dead(a, self)]
        return self._armed_alive


_MENTIONS = ("places", "actors", "dates", "weapons", "casualties", "sources", "triggers")


def _document_lists(doc: Doc, folded: str, cues: dict[str, list[Match]] | None = None) -> dict[str, list]:
    """The document's mentions, and its matches of the events stage's own cue lists
    (`find_cues`)."""
    cues = cues if cues is not None else find_cues(folded)
    lists = {name: getattr(doc, name) for name in _MENTIONS}
    lists.update(verbs=cues["verbs"], objects=cues["objects"] if cues["verbs"] else [], datelines=_datelines(doc),
                 modal=cues["modal"], air=cues["air"])
    return lists


def _by_sentence(sentences: list[Sentence], lists: dict[str, list]) -> dict[str, list[list]]:
    """Each kind's mentions, sentence by sentence, in one pass per kind (a mention belongs
    to the sentence that holds it whole)."""
    starts = [s.start for s in sentences]
    out: dict[str, list[list]] = {}
    for name, items in lists.items():
        buckets: list[list] = [[] for _ in sentences]
        for m in items:
            i = bisect_right(starts, m.start) - 1
            if i >= 0 and m.end <= sentences[i].end:
                buckets[i].append(m)
        out[name] = buckets
    return out


def _is_modal(trigger: TriggerMention, modal, text: str) -> bool:
    for cue in modal:
        if cue.end <= trigger.start and trigger.start - cue.end <= MODAL_REACH:
            between = text[cue.end:trigger.start]
            if not any(p in between for p in ",;:.\u2014"):
                return True
    return False


def find_triggers(doc: Doc, folded: str, cues: dict[str, list[Match]] | None = None) -> None:
    origin = background.origin_spans(doc, folded)  # "the war began with protests in 2011"
    for m in (cues if cues is not None else find_cues(folded))["triggers"]:
        spec: TriggerSpec = m.value
        if spec.cls == "none":
            continue  # "riot police", "fighting the pandemic": no event here
        if origin and background.within(origin, m.start, m.end):
            continue  # the war's origin story, background: no event
        doc.triggers.append(TriggerMention(
            m.start, m.end, doc.text[m.start:m.end],
            event_type=taxonomy()[spec.sub_event_type]["event_type"] if spec.sub_event_type else "",
            sub_event_type=spec.sub_event_type or "", cue=("remote_air" if spec.air_only else spec.cls) or "",
            fallback=(spec.fallback or "") if not (spec.accident and _accident(folded, m.start)) else "",
        ))


def find_weapons(doc: Doc, folded: str, cues: dict[str, list[Match]] | None = None) -> None:
    for m in (cues if cues is not None else find_cues(folded))["weapons"]:
        name, category = m.value
        doc.weapons.append(WeaponMention(m.start, m.end, doc.text[m.start:m.end], weapon=name, category=category))


# -- agents and targets ------------------------------------------------------------

def _is_armed(mention: ActorMention) -> bool:
    return mention.actor.inter not in (5, 6, 7)


def _cue_words(key: str) -> str:
    """A list of discourse.yaml as a regex alternation, longest phrase first."""
    phrases = {variant for phrase in load_data("discourse.yaml")[key] for variant in expand(str(phrase))}
    return "(?:" + "|".join(re.escape(p) for p in sorted(phrases, key=lambda p: (-len(p), p))) + ")"


_PRONOUN_SUBJECT = re.compile(rf"\b{_cue_words('pronoun_subjects')}\b", re.I)
_CLAUSE_BREAK = re.compile(r"[;:\u2014]")


def _agent(s: _Sentence, trigger: TriggerMention, context: Draft | None, country: str | None,
           text: str) -> list[ActorMention]:
    """Who did it, head first, then allies named with it.

    The subject is the first armed actor of the trigger's clause ("The Free Idlib Army,
    part of the Free Syrian Army, has issued..."); actors of the same side named with it
    join it ("pro-Assad forces, including Iranian-led militias"), and the state force
    among them heads the group, as ACLED codes it. Else an actor after the trigger
    ("fell to X", "bombing of Y as X try..."); else, when the subject is a pronoun
    ("they completed the recapture"), the previous event's agent.
    """
    # An actor counted among the dead is a victim ("50 ISIS terrorists killed in ..."), not
    # the agent; in a fight, though, the dead are its parties when no one else is named.
    armed = s.armed_alive
    if not armed and trigger.sub_event_type == "Armed clash":
        armed = s.armed
    if trigger.text.lower() in _TERRITORY_BY_AGENT_AFTER:
        return [a for a in armed if a.start >= trigger.end][:1]
    before = [a for a in armed if a.start < trigger.end and (a.actor.kind != "weak" or _weak_subject(a, trigger, text))]
    if before:
        clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(
            text, s.sentence.start, trigger.start)), default=s.sentence.start)
        in_clause = [a for a in before if a.start >= clause_start] or before
        subject = in_clause[0]
        side = actor_rules.side(subject.actor, country)
        group = [a for a in in_clause if actor_rules.side(a.actor, country) == side]
        head = min(group, key=lambda a: actor_rules.inter_code(a.actor, country))
        allies = [a for a in group if a is not head and a.actor.name != head.actor.name]
        return [head, *allies]
    after = [a for a in armed if a.start >= trigger.end and a.actor.kind != "weak"
             and not _SAID_AFTER.match(s.text, a.end)]  # "..., rebels said": a source
    if after and trigger.cue != "territory":  # "entered X after eliminating Y": Y is no agent
        return after[:1]
    if context and context.agents and _PRONOUN_SUBJECT.search(text, s.sentence.start, trigger.start):
        return context.agents[:1]
    return []


_SAID_AFTER = re.compile(rf"\s+{_cue_words('reporting_verbs')}\b")


_PASSIVE_AFTER = re.compile(rf"\s+{_cue_words('passive_followers')}\b", re.I)
_HURT_WORDS = frozenset(load_data("discourse.yaml")["hurt_verbs"])
PASSIVE_REACH = 60  # characters before a passive "killed in" where its victims are named


def _among_dead(mention: ActorMention, s: _Sentence) -> bool:
    """Whether an actor is named as the victims of a figure ("50 ISIS terrorists
    killed"), not in a toll's wording ("the death toll in Syrian bombing rose to 76"), or
    as the subject of a passive "killed in/by" ("Nusra leader killed in army offensive")."""
    if any(c.start <= mention.start < c.end and "toll" not in c.text.lower() for c in s.casualties):
        return True
    return any(t.text.lower() in _HURT_WORDS and 0 <= t.start - mention.end <= PASSIVE_REACH
               and _PASSIVE_AFTER.match(s.text, t.end) and not _CLAUSE_BREAK.search(s.text, mention.end, t.start)
               for t in s.all_triggers)


# A bare country name or demonym is the agent only as a subject or coordinated with
# one: "Russia is continuing its bombing", "Russian and regime strikes"; not "the
# Turkish border since the bombardment".
_WEAK_SUBJECT_NEXT = re.compile(rf"(?:\s+{_cue_words('subject_followers')}\b|['\u2019]s\b)")
# Where the trigger's clause ends: the target is named before it.
_CLAUSE_END = re.compile(rf"[;:\u2014]|,\s+{_cue_words('clause_openers')}\b")


def _weak_subject(mention: ActorMention, trigger: TriggerMention, text: str) -> bool:
    if 0 <= trigger.start - mention.end <= 1:
        return True  # "Israeli attacks", "Russian bombing": the demonym qualifies the act
    return trigger.start - mention.end <= 60 and _WEAK_SUBJECT_NEXT.match(text, mention.end) is not None


def _targets(s: _Sentence, trigger: TriggerMention, agents: list[ActorMention],
             country: str | None, text: str) -> list[ActorMention]:
    """Against whom: the first actor after the trigger, within its clause, on another
    side than the agent."""
    after = [a for a in s.actors if a.start >= trigger.end and a.actor.kind != "weak"]
    if not after:
        return []
    end = _CLAUSE_END.search(text, trigger.end, s.sentence.end)
    limit = end.start() if end else s.sentence.end
    agent_sides = {actor_rules.side(a.actor, country) for a in agents}
    return [a for a in after if a.start < limit and a not in agents
            and actor_rules.side(a.actor, country) not in agent_sides
            and not any(src.start <= a.start < src.end for src in s.sources)
            and not _SAID_AFTER.match(s.text, a.end)][:1]  # "medics said": a source


_CROWD_EVENTS = ("Protests", "Riots")
_PROTESTERS = Actor("Protesters ({country})", 6, "civilian")
_RIOTERS = Actor("Rioters ({country})", 5, "civilian")


def _crowd_roles(s: _Sentence, trigger: TriggerMention, sub_type: str) -> tuple[list, list]:
    """Protests and riots: the crowd is actor1 (named, or the trigger itself says
    "protesters"); state forces that intervene are actor2, or actor1 when they use
    excessive force against the crowd."""
    rioting = taxonomy()[sub_type]["event_type"] == "Riots"
    crowd = [a for a in s.actors if a.actor.inter in (5, 6)][:1] or [
        ActorMention(trigger.start, trigger.end, trigger.text, actor=_RIOTERS if rioting else _PROTESTERS)]
    forces = [a for a in s.actors if a.actor.inter in (1, 3, 8)][:1]
    if sub_type == "Excessive force against protesters":
        return forces, crowd
    return crowd, forces if sub_type != "Peaceful protest" else []


_PROTEST_TYPES = ("Peaceful protest", "Protest with intervention", "Excessive force against protesters",
                  "Violent demonstration")
# How a crowd's event reads when several things are told of it (ACLED Codebook): the
# crowd's own violence first, then force against it, then intervention, then the protest.
_CROWD_ORDER = {"Violent demonstration": 0, "Mob violence": 0, "Excessive force against protesters": 1,
                "Protest with intervention": 2, "Peaceful protest": 3}
_CROWD_VICTIMS = frozenset({"protesters", "protestors", "demonstrators", "protester", "demonstrator", "marchers"})


def _crowd_types(typed: list[tuple], loose: list[tuple], s: _Sentence, text: str) -> list[tuple]:
    """In a sentence about a crowd (a protest word, even a hypothetical one, protesters,
    rioters, a mob), read the other triggers as what happened at it, as the ACLED
    Codebook does: clashes, looting and attacks by the crowd make a Violent demonstration
    (Mob violence when the crowd is a mob); arrests make a Protest with intervention;
    attacks and harm by state forces, or deaths and injuries when state forces
    intervene, make Excessive force. A clash among civilians with no armed group is Mob
    violence. `loose` are attack and harm triggers that typed to nothing on their own.
    What the crowd protests against ("rallied to decry the arrests") is no part of it."""
    protest = any(t.sub_event_type in _PROTEST_TYPES for t in s.all_triggers)
    mob = any(t[0] == "Mob violence" for t in typed) or any(a.actor.inter == 5 and a.actor.kind == "mob"
                                                             for a in s.actors)
    crowd = protest or mob or any(a.actor.inter in (5, 6) for a in s.actors)
    armed = any(a.actor.inter in (2, 3, 4) and a.actor.kind != "weak" for a in s.actors)
    if not crowd:
        if not armed:
            # "villagers clashed using bamboo sticks": no armed group, a communal brawl.
            return [("Mob violence" if t[0] == "Armed clash" and _civilians_before(t[1], s) else t[0], *t[1:])
                    for t in typed]
        return typed
    topic = _topic_span(s, text) if protest else None
    about = (lambda m: topic is not None and topic[0] <= m.start < topic[1])
    violent = "Mob violence" if mob and not protest else "Violent demonstration"
    out = []
    for sub_type, trigger, agents, targets in typed:
        if about(trigger) and sub_type not in _PROTEST_TYPES:
            continue
        if sub_type in ("Armed clash", "Looting/property destruction") and not armed:
            sub_type = violent
        elif sub_type == "Arrests":
            sub_type = "Protest with intervention"
        elif sub_type == "Attack" and not armed:
            sub_type = _harm_type(agents, mob, violent, typed=True)
        out.append((sub_type, trigger, agents, targets))
    for trigger, agents, targets in loose:
        if about(trigger):
            continue
        if trigger.cue == "crowd_violence":
            harm = violent
        elif trigger.cue == "attack" and not agents and any(
                t.sub_event_type in _PROTEST_TYPES and 0 <= t.start - trigger.end <= 40 for t in s.all_triggers):
            harm = "Mob violence"  # "a group of men attacked a peaceful rally"
        else:
            harm = _harm_type(agents, mob, violent)
        if harm:
            out.append((harm, trigger, agents, targets))
    state = any(a.actor.inter in (1, 8) and a.actor.kind != "weak" for a in s.actors)
    if protest and state and out and any(not about(c) and c.value > 0 and (c.kind == "fatalities" or c.value >= 5)
                                         for c in s.casualties):
        first = out[0]  # people killed or hurt where state forces broke up a protest
        out.append(("Excessive force against protesters", first[1], first[2], first[3]))
    if not out:
        return typed
    # One crowd, one event: the strongest reading of what it did or met.
    crowd_events = [t for t in out if t[0] in _CROWD_ORDER]
    if len(crowd_events) > 1:
        top = min(crowd_events, key=lambda t: _CROWD_ORDER[t[0]])[0]
        out = [(top, *t[1:]) if t[0] in _CROWD_ORDER else t for t in out]
    return out


def _harm_type(agents: list, mob: bool, violent: str, typed: bool = False) -> str | None:
    """An attack or harm at a crowd: by state forces, excessive force; by the crowd
    itself (or, for an attack already typed, by no one named), its violence."""
    head = agents[0].actor if agents else None
    if head is not None and head.inter in (1, 8) and not mob:
        return "Excessive force against protesters"
    if head is not None and head.inter in (5, 6):
        return violent
    if head is None and typed:
        return violent
    return None


def _civilians_before(trigger: TriggerMention, s: _Sentence) -> bool:
    """Whether civilians are the subject of a trigger ("villagers clashed")."""
    return any(a.actor.inter == 7 and 0 <= trigger.start - a.end <= 30 for a in s.actors)


# What a protest is against: "rallied to decry the arrests", "marched against the killing of".
_TOPIC = re.compile(rf"\b{_cue_words('protest_topic')}\b", re.I)
_TOPIC_END = re.compile(rf"[;:\u2014]|,\s+{_cue_words('topic_end_after_comma')}\b|\s{_cue_words('topic_end_words')}\s", re.I)
TOPIC_REACH = 60  # characters: what a protest is about is said in a few words


def _topic_span(s: _Sentence, text: str) -> tuple[int, int] | None:
    first = min((t.start for t in s.all_triggers if t.sub_event_type in _PROTEST_TYPES), default=None)
    if first is None:
        return None
    m = _TOPIC.search(text, first, s.sentence.end)
    if m is None:
        return None
    limit = min(s.sentence.end, m.end() + TOPIC_REACH)
    end = _TOPIC_END.search(text, m.end(), limit)
    return m.start(), end.start() if end else limit


def _can_strike_from_the_air(agent: ActorMention) -> bool:
    return agent.actor.inter in (1, 8) or agent.actor.kind == "air"


def _is_government_side(mention: ActorMention, country: str | None) -> bool:
    return actor_rules.side(mention.actor, country) == "government"


# -- sub-event type -----------------------------------------------------------------

# Remote violence a bare "strikes" or "shelling" may refer back to.
_REFERRED_REMOTE = ("Air/drone strike", "Shelling/artillery/missile attack")


def _resolve_type(trigger: TriggerMention, s: _Sentence, agents, targets, country: str | None,
                  context: Draft | None = None) -> str | None:
    """The ACLED sub-event type a trigger signals in its sentence (after the event told
    just before it, `context`), or None."""
    if trigger.sub_event_type:
        return trigger.sub_event_type
    if trigger.cue == "territory":
        if not agents:
            return None
        return "Government regains territory" if _is_government_side(agents[0], country) \
            else "Non-state actor overtakes territory"
    weapon_types = [_WEAPON_TYPES[w.category] for w in s.weapons if w.category in _WEAPON_TYPES]
    if trigger.cue == "remote_air":
        return "Air/drone strike" if s.air_cue else None
    if trigger.cue == "remote":
        # An air cue decides; else a named weapon ("struck an improvised explosive
        # device"); else a state agent, which bombs from the air.
        if s.air_cue:
            return "Air/drone strike"
        delivery = [t for t in weapon_types if t not in _separate()]  # chemicals are their own event
        if delivery:
            return delivery[0]
        if any(a.actor.inter in (1, 8) for a in agents):
            return "Air/drone strike"
        if context is not None and context.sub_event_type in _REFERRED_REMOTE:
            return context.sub_event_type  # "Air strikes killed 61 ... Three strikes hit the town"
        return trigger.fallback or None
    if trigger.cue == "attack":
        if weapon_types:
            return min(weapon_types, key=lambda t: _precedence().get(t, 99))
        if s.air_cue:
            return "Air/drone strike"  # "the fighter jet targeted positions"
        if targets and targets[0].actor.inter == 7:
            return "Attack"
        if agents and targets and _is_armed(targets[0]):
            return "Armed clash"
        hit = _target_kind(trigger, s)
        if hit == "military":
            return "Armed clash"  # "attacked a military post": a fight with armed forces
        if hit == "civilian" and (agents or s.casualties):
            return "Attack"  # "gunmen attacked two villages"
        victims = _victim_kind(s, strict=True)
        if agents and victims == "civilian":
            return "Attack"
        if agents and victims == "armed":
            return "Armed clash"
        return trigger.fallback or None
    return None


@preload
@cache
def _target_matcher() -> PhraseMatcher[str]:
    data = load_data("triggers.yaml")
    return PhraseMatcher([(p, "military") for p in data["military_targets"]]
                         + [(p, "civilian") for p in data["civilian_targets"]])


TARGET_REACH = 50  # characters after an attack word where its object is named


def _target_kind(trigger: TriggerMention, s: _Sentence) -> str | None:
    """What an attack hits, from the noun right after it: "military" or "civilian"."""
    end = _CLAUSE_END.search(s.text, trigger.end, s.sentence.end)
    limit = min(end.start() if end else s.sentence.end, trigger.end + TARGET_REACH)
    found = _target_matcher().find(s.text[trigger.end:limit], s.folded[trigger.end:limit])
    return found[0].value if found else None


def _victim_kind(s: _Sentence, strict: bool = False) -> str | None:
    """Who the sentence's dead are: "civilian" (civilians, children; also people unless
    `strict`) or "armed" (soldiers, fighters); None without a figure."""
    kinds = []
    for c in s.casualties:
        if c.kind != "fatalities":
            continue
        civilian = _victim_classes().get(c.victims or "", {}).get("civilian")
        if civilian is None and strict:
            continue
        kinds.append("armed" if civilian is False else "civilian")
    return kinds[0] if kinds else None


_TERRITORIAL = ("Government regains territory", "Non-state actor overtakes territory")


def _without_a_fight(typed: list[tuple]) -> list[tuple]:
    """A place taken after its holders withdrew, or without resistance, and with no fight
    told: a Non-violent transfer of territory (ACLED Codebook)."""
    kinds = {t[0] for t in typed}
    if "Non-violent transfer of territory" in kinds and kinds & set(_TERRITORIAL) and "Armed clash" not in kinds:
        return [("Non-violent transfer of territory", *t[1:]) if t[0] in _TERRITORIAL else t for t in typed]
    return typed


def _verb_object_reading(s: _Sentence, context: Draft | None, country: str | None, text: str) -> list[tuple]:
    """Events told by a verb and its object a few words apart (triggers.yaml
    `verb_object`): (type, trigger, agents, targets, object spans)."""
    if not s.verbs or not s.objects:
        return []
    rules = _verb_object_rules()
    found = []
    for verb in s.verbs:
        for index in sorted(verb.value):
            rule = rules[index]
            objects = [o for o in s.objects if index in o.value and not (o.start < verb.end and verb.start < o.end)
                       and _near_in_clause(verb, o, rule.reach, text)]
            if not objects:
                continue
            trigger = TriggerMention(verb.start, verb.end, text[verb.start:verb.end],
                                     event_type=taxonomy()[rule.sub_event_type]["event_type"] if rule.sub_event_type else "",
                                     sub_event_type=rule.sub_event_type or "", cue=rule.cls or "")
            if _is_modal(trigger, s.modal, text):
                continue
            agents = _agent(s, trigger, context, country, text)
            targets = _targets(s, trigger, agents, country, text)
            sub_type = rule.sub_event_type or _resolve_type(trigger, s, agents, targets, country, context)
            if sub_type:
                found.append((sub_type, trigger, agents, targets, [(o.start, o.end) for o in objects]))
                break
    return found


def _near_in_clause(a, b, reach: int, text: str) -> bool:
    first, second = (a, b) if a.start < b.start else (b, a)
    gap = second.start - first.end
    return 0 <= gap <= reach and not any(c in text[first.end:second.start] for c in ";:\u2014")


_KILL_WORDS = frozenset({"killed", "killing", "kills", "kill", "destroyed", "destroy", "destroys", "destroying"})


def _killing_type(loose: list[tuple], s: _Sentence) -> list[tuple]:
    """A sentence whose only event word is "killed", with an armed agent before it:
    "Bandits have killed seven people" (Attack), "Security forces have killed 219
    suspected rebels" (Armed clash)."""
    for trigger, agents, targets in loose:
        if trigger.text.lower() not in _KILL_WORDS or not agents or agents[0].start > trigger.start:
            continue
        if agents[0].actor.kind == "weak":
            continue
        if agents[0].actor.kind == "air":
            return [("Air/drone strike", trigger, agents, targets)]  # "the air force destroyed a command centre"
        if trigger.text.lower().startswith("destroy"):
            continue
        if targets and _is_armed(targets[0]):
            return [("Armed clash", trigger, agents, targets)]
        victims = _victim_kind(s)
        if victims == "armed":
            return [("Armed clash", trigger, agents, targets)]
        if victims == "civilian" or (targets and targets[0].actor.inter == 7):
            return [("Attack", trigger, agents, targets)]
    return []


# -- place --------------------------------------------------------------------------

_COARSENESS = {"populated": 0, "site": 0, None: 0, "admin2": 150, "admin1": 250, "country": 500}


_RELATIVE_BEFORE = re.compile(
    r"(?:\b(?:north|south|east|west|northeast|northwest|southeast|southwest|north-east|north-west|south-east|"
    r"south-west)(?:ern)?\s+of|\bnear|\bnearby|\boutside|\bkm\s+(?:from|of)|\bmiles\s+(?:from|of))"
    r"\s+(?:the\s+)?(?:(?:city|town|village)\s+of\s+)?$", re.I)


def _choose_place(s: _Sentence, trigger: TriggerMention, country: str | None, text: str) -> PlaceMention | None:
    """Where it happened: the most specific place nearest the trigger, preferring one
    after it ("moved into X"). Not a place inside an actor's name ("Russia is bombing",
    "Islamic State in the Greater Sahara") nor a foreign country ("the Britain-based monitor"),
    and not a place that only locates another ("X, north of Y") unless it is the only one."""
    # (The cheap tests first: this runs for every event.)
    candidates = [p for p in s.places
                  if not (p.place is not None and p.place.feature == "country" and p.place.country_code != country)
                  and not any(t.start <= p.start < t.end for t in s.all_triggers)  # "Car bomb": no place
                  and not any(a.start <= p.start and p.end <= a.end and _names_actor(a, text, s)
                              for a in s.actors)  # "IS in the Greater Sahara", "Russia is bombing"
                  and not _is_dateline(p, s, text)]
    # "Syrias Idlib" unknown, "Idlib" known inside it: the known one.
    candidates = [p for p in candidates if p.place is not None or p.anchor is not None or not any(
        q is not p and q.place is not None and p.start <= q.start and q.end <= p.end for q in candidates)]
    # "killed 43 people as fighters advanced on Raqqa": the clause of "as", "amid" or
    # "while" after the trigger is the setting; its places are not where this happened.
    candidates = [p for p in candidates if p.start < trigger.end
                  or not _setting_between(text, max(trigger.end, p.start - SETTING_REACH), p.start)]
    if len(candidates) > 1:  # (a lone place locates no other)
        anchors_only = [p for p in candidates if _locates_another(p, candidates, text)]
        if len(anchors_only) < len(candidates):
            candidates = [p for p in candidates if p not in anchors_only]
    if not candidates:
        return _country_of_settlement(s, text, country)
    if len(candidates) == 1:
        return candidates[0]

    def cost(p: PlaceMention) -> float:
        distance = p.start - trigger.end if p.start >= trigger.end else 1.5 * (trigger.start - p.end) + 20
        feature = p.place.feature if p.place else None
        coarse = _COARSENESS.get(feature, 0) if p.role != "region" else _COARSENESS["admin1"]
        if p.place is None and p.anchor is None and p.role != "region":
            coarse += UNRESOLVED_COST  # a name the gazetteer does not know: a last resort
        if country and p.place is not None and p.place.country_code != country:
            coarse += FOREIGN_COST  # "the ministry in Moscow said" in a report on Syria
        return max(distance, 0) + coarse

    return min(candidates, key=cost)


@preload
@cache
def _settlement_after() -> re.Pattern:
    """A settlement noun within two words after a demonym ("Syrian rebel-held town")."""
    nouns = "|".join(map(re.escape, load_data("triggers.yaml")["settlement_nouns"]))
    return re.compile(rf"(?:\s+[\w-]+){{0,2}}?\s+(?:{nouns})\b", re.I)


def _country_of_settlement(s: _Sentence, text: str, country: str | None) -> PlaceMention | None:
    """The country a demonym gives a settlement ("a Syrian town"), at geo precision 3:
    where the text says no more than that."""
    for mention in s.demonyms:
        if mention.place.feature != "country" or (country and mention.place.country_code != country):
            continue
        if _settlement_after().match(text, mention.end):
            return mention
    return None


UNRESOLVED_COST = 120
FOREIGN_COST = 600  # more than a bare mention of the country itself
# A dateline ("BEIRUT (Reuters) -") says where the report was filed, not where it happened.


def _is_dateline(place: PlaceMention, s: _Sentence, text: str) -> bool:
    """A place name in capitals opening a sentence (after a date at most), or a place
    followed by a news agency's name ("Moscow AFP", "GAZA (Reuters)"): a dateline."""
    if len(place.text) >= 4 and place.text.isupper() and place.start - s.sentence.start <= 60:
        return True
    return _agency_after().match(text, place.end) is not None


@preload
@cache
def _agency_after() -> re.Pattern:
    names = sorted(load_data("triggers.yaml")["news_agencies"], key=len, reverse=True)
    return re.compile(r"\s*\(?(?:" + "|".join(re.escape(n) for n in names) + r")\)?(?:\s|$|[-\u2013\u2014:,])")


def _names_actor(mention: ActorMention, text: str, s: _Sentence | None = None) -> bool:
    """Whether an actor mention is an actor rather than a place: a bare country name
    ("in northern Syria") is one only as a subject ("Syria is bombing") or right before
    an event word ("Russia strikes")."""
    if mention.actor.kind != "weak" or _WEAK_SUBJECT_NEXT.match(text, mention.end) is not None:
        return True
    return s is not None and any(0 <= t.start - mention.end <= 1 and t.cue not in ("harm", "crowd_violence")
                                 for t in s.all_triggers)


def _locates_another(place: PlaceMention, others: list[PlaceMention], text: str) -> bool:
    """Whether `place` is the Y of "X, north of Y" / "X near Y" for another place X."""
    relation = _RELATIVE_BEFORE.search(text, max(0, place.start - 40), place.start)
    if relation is None:
        return False
    return any(0 <= relation.start() - q.end <= 2 for q in others if q is not place)


def location_name(place: PlaceMention) -> str:
    """The ACLED location of a mention: the gazetteer's name without diacritics; the
    anchor's for a bare relative phrase ("north of Hama" -> Hama); else the text."""
    if place.place is not None:
        return ascii_name(place.place.name)
    anchor = place.anchor
    if anchor is not None and place.start < anchor.start and place.end == anchor.end:
        return location_name(anchor)
    return place.text


_AYN_HAMZA = str.maketrans("", "", "\u2018\u2019\u02bb\u02bc\u02be\u02bf`")


@lru_cache(maxsize=4096)  # the same few places recur across a batch of reports
def ascii_name(name: str) -> str:
    """A gazetteer name as ACLED writes locations: "Ḩalfāyā" -> "Halfaya"."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return folded.translate(_AYN_HAMZA)


# -- the pass over sentences -----------------------------------------------------------

def _drafts_for_sentence(s: _Sentence, context: Draft | None, country: str | None, text: str) -> list[Draft]:
    if not s.triggers and not s.verbs:
        return []  # no event word: most sentences
    typed: list[tuple[str, TriggerMention, list, list]] = []
    loose: list[tuple[TriggerMention, list, list]] = []
    for trigger in s.triggers:
        agents = _agent(s, trigger, context, country, text)
        targets = _targets(s, trigger, agents, country, text)
        sub_type = _resolve_type(trigger, s, agents, targets, country, context)
        if sub_type == "Air/drone strike" and agents and not _can_strike_from_the_air(agents[0]):
            agents, targets = [], []  # whoever flew it, it was not this group
        if sub_type:
            typed.append((sub_type, trigger, agents, targets))
        elif trigger.cue in ("attack", "harm", "crowd_violence"):
            loose.append((trigger, agents, targets))
    if len({t[0] for t in typed}) > 1:
        # "Air strikes targeted rebel positions": a bare attack word elaborates the
        # event another trigger names; it does not outrank it.
        named = [t for t in typed if t[1].cue not in ("attack", "defer")]
        typed = named or typed
    for reading in _verb_object_reading(s, context, country, text):
        # "police seized 50 rifles", "an IED was found and defused": the verb and its
        # object tell the event, and other readings of those words ("seized" a town,
        # "IED") give way to a seizure; else a word that already tells another event
        # ("moved into" a town) keeps it.
        spans = [(reading[1].start, reading[1].end)] + reading[4]
        overlapped = [t for t in typed if any(a < t[1].end and t[1].start < b for a, b in spans)]
        if reading[0] != "Disrupted weapons use" and any(t[0] != reading[0] for t in overlapped):
            continue
        typed = [t for t in typed if t not in overlapped]
        loose = [t for t in loose if not any(a < t[0].end and t[0].start < b for a, b in spans)]
        typed.append(reading[:4])
    if not typed and not loose:
        return []
    typed = _crowd_types(typed, loose, s, text) or _killing_type(loose, s)
    if not typed:
        return []
    typed = _without_a_fight(typed)
    typed = [(t, trigger, *_crowd_roles(s, trigger, t)) if taxonomy()[t]["event_type"] in _CROWD_EVENTS
             else (t, trigger, agents, targets) for t, trigger, agents, targets in typed]
    rank = _precedence()
    # "Airstrikes killed 85 civilians as fighting was underway": the clause of "as",
    # "amid" or "while" is the setting, not the event, when the sentence tells one before it.
    told = [t for t in typed if not _in_setting(t[1], typed[0][1], s, text)] or typed
    main = min((t for t in told if t[0] not in _separate()), key=lambda t: rank.get(t[0], 99), default=None)
    chosen = [main] if main else []
    chosen += [t for t in typed if t[0] in _separate()][:1]
    if any(w.category == "chemical" for w in s.weapons) and not any(t[0] == "Chemical weapon" for t in chosen) and main:
        chosen.append(("Chemical weapon", main[1], main[2], main[3]))
    drafts = []
    for sub_type, trigger, agents, targets in chosen:
        # Chemical agents belong to the Chemical weapon event, other weapons to the rest.
        chemical = sub_type == "Chemical weapon"
        weapons = [w for w in s.weapons if (w.category == "chemical") == chemical]
        triggers = [t[1] for t in typed if t[0] == sub_type] or [trigger]
        # "Jets have hit the town since 2015, and on Monday a strike killed ten": the
        # campaign's words tell no event; another word of the kind dated to the day does.
        date, campaign = _event_date(s, trigger, text)
        if campaign and taxonomy()[sub_type]["event_type"] == "Strategic developments":
            # "have set up 56 observation posts since October 2017": not violence nor a
            # demonstration, whose every act ACLED codes apart; told as the report tells it,
            # undated by the period.
            campaign = False
        if campaign:
            date = next((found for found, _ in (_event_date(s, t, text) for t in triggers if t is not trigger)
                         if found is not None and found.precision == 1), None)
            campaign = date is None  # "the town has been hit by air strikes since 2015"
        drafts.append(Draft(
            sub_event_type=sub_type, sentences=[s.sentence],
            triggers=triggers,
            place=_choose_place(s, trigger, country, text),
            date=date, dateline=date is not None and date in s.datelines,
            agents=agents, targets=targets, weapons=weapons, casualties=list(s.casualties),
            extra_places=[p for p in s.places if p.role == "region"], campaign=campaign,
        ))
    return drafts


_SETTING = re.compile(rf"\b{_cue_words('setting_openers')}\s", re.I)
SETTING_REACH = 80  # characters: a setting clause is said in a few words
# The same cues opening a clause, not a comparison ("as close as", "as well as"), "as
# part of", nor a participle ("while attacking": the agent's own act).
_SETTING_CLAUSE = re.compile(rf"\b{_cue_words('setting_openers')}\s+(?!(?:{_cue_words('setting_exceptions')}|\w+ing)\b)", re.I)
# What makes an "as" no clause opener: "such as", and the second "as" of a comparison
# ("as close as 5 km", "as many as 20").
_NOT_A_SETTING_BEFORE = re.compile(r"(?:\bsuch|\bas\s+[\w-]+)\s+$", re.I)


def _setting_between(text: str, start: int, end: int) -> bool:
    """Whether a circumstantial clause ("as fighters advanced on X") opens between two offsets."""
    for m in _SETTING_CLAUSE.finditer(text, start, end):
        if _NOT_A_SETTING_BEFORE.search(text, max(0, m.start() - 30), m.start()) is None:
            return True
    return False


def _in_setting(trigger: TriggerMention, first: TriggerMention, s: _Sentence, text: str) -> bool:
    """Whether a trigger stands in a circumstantial clause ("as fighting raged") opened
    after the sentence's first trigger."""
    if trigger is first or trigger.start <= first.end:
        return False
    return _SETTING.search(text, first.end, trigger.start) is not None


# "Mon Aug 15 2016 More than 30 rebels killed ...", "Date of publication 9 August 2016 ...":
# the day a report was filed, written before its headline or lead.
_DATELINE_LEAD = re.compile(r"^\W*(?:(?:published|posted(?: on)?|date of publication|last updated(?: at| on)?|updated"
                            r"(?: on| at)?|first published(?: on)?)\s*:?\s*)?$", re.I)


def _datelines(doc: Doc) -> list[DateMention]:
    """The date mentions that open one of the first sentences: datelines."""
    return [d for sentence in doc.sentences[:3] for d in doc.dates
            if sentence.start <= d.start < sentence.end and d.start - sentence.start <= 40
            and _DATELINE_LEAD.match(doc.text[sentence.start:d.start])]


# An ongoing period longer than this is a campaign's ("has been hit by air strikes since
# 2015", "have fought for control for years"), not an event's date: ACLED codes discrete
# events, dated at worst to a month, and a campaign is none (a running count over such a
# period is a tally, see tallies.py).
CAMPAIGN_MIN_DAYS = 31
_COMPARISON = re.compile(rf"\b{_cue_words('comparison_cues')}\b", re.I)
COMPARISON_REACH = 160  # characters from "the first ..." to the period it measures against
# Where one clause ends and another begins (wire copy stripped of its commas leaves the
# relative words): "air attacks on the town near an airport which IS has besieged for a year".
_CLAUSE_TURN = re.compile(r"[,;:()\u2014]|\b(?:which|who|whom|where|when|while|whereas|because)\b", re.I)


def _period(d: DateMention, s: _Sentence, trigger: TriggerMention | None) -> tuple[int, int, bool]:
    """(where its words start, its length in days, whether ongoing): the period a date gives
    the trigger's event (or, without a trigger, an event the sentence adds to). A date closing
    a clause of "since" dates what the clause tells ("since Russia intervened in 2015") and,
    for the rest of the sentence ("its strikes"), starts a period running to publication."""
    clause = s.since_clause(d)
    if clause is not None and not (trigger is not None and clause <= trigger.start < d.end):
        end = s.published if s.published is not None else date.max
        return clause, (end - d.first).days, True
    return d.start, (d.last - d.first).days, d.ongoing


def _compared(start: int, s: _Sentence, text: str) -> bool:
    """Whether a superlative before a period, in its clause, measures against it: "the
    first blast since the war began in 2011", "the worst attack in years"."""
    cue = None
    for cue in _COMPARISON.finditer(text, max(s.sentence.start, start - COMPARISON_REACH), start):
        pass
    return cue is not None and _CLAUSE_TURN.search(text, cue.end(), start) is None


def _reading(d: DateMention, s: _Sentence, trigger: TriggerMention | None, text: str) -> str:
    """How a date bears on the trigger's event: "date" (it dates it), "yardstick" (the
    period a comparison measures against), "campaign" (a period longer than a month in the
    trigger's clause: the trigger tells a campaign) or "apart" (such a period in another
    clause: "near an airport which IS has besieged for a year")."""
    start, days, ongoing = _period(d, s, trigger)
    if not ongoing:
        return "date"
    if _compared(start, s, text):
        return "yardstick"
    if days <= CAMPAIGN_MIN_DAYS:
        return "date"
    if trigger is not None and _CLAUSE_TURN.search(
            text, *((trigger.end, start) if trigger.end <= start else (d.end, trigger.start))) is None:
        return "campaign"
    return "apart"


def _event_date(s: _Sentence, trigger: TriggerMention, text: str) -> tuple[DateMention | None, bool]:
    """The date nearest the trigger that dates it, and whether, before one, a campaign's
    period in its clause makes the trigger a campaign, which is no event."""
    for d in sorted(s.dates, key=lambda d: abs(d.start - trigger.start)) if len(s.dates) > 1 else s.dates:
        reading = _reading(d, s, trigger, text)
        if reading == "date":
            return d, False
        if reading == "campaign":
            return None, True
    return None, False


def _same_happening(a: Draft, b: Draft) -> bool:
    """Same type at the same place, on the same date or with one of them undated (a
    headline, "Multiple reports say X moved into Y") in the same report. A place given
    only as the country is the same as a place in it ("a suicide bomber struck a wedding
    in northeast Syria" after "blew himself up in the village of Tall Tawil")."""
    if a.sub_event_type != b.sub_event_type:
        return False
    if _place_key(a.place) != _place_key(b.place) and not _nests(a.place, b.place):
        return False
    return _dates_agree(a, b)


DATELINE_REACH_DAYS = 7  # a report filed on day D tells events of the days before it


def _dates_agree(a: Draft, b: Draft) -> bool:
    """Same date, or one of them unknown, or one the dateline (the day the report was
    filed) and the other in the week before it."""
    if a.date is None or b.date is None or a.date.value == b.date.value:
        return True
    if b.dateline:
        a, b = b, a
    return a.dateline and 0 <= (a.date.value - b.date.value).days <= DATELINE_REACH_DAYS


REPORTING_LAG_DAYS = 1  # a lead dates the telling ("said on Monday"), the body the happening ("on Sunday")


def _lead_dates_agree(coarse: Draft, finer: Draft) -> bool:
    """Whether a coarse lead and a finer event may be one happening by their dates: as
    `_dates_agree`, or a day apart, since a lead is often dated by the day the news was
    told ("a monitor said on Monday") and the body by the day it happened ("on Sunday")."""
    if _dates_agree(coarse, finer):
        return True
    return abs((coarse.date.value - finer.date.value).days) <= REPORTING_LAG_DAYS


def _nests(a: PlaceMention | None, b: PlaceMention | None) -> bool:
    """One place is given only as a country and the other lies in it."""
    if a is None or b is None or a.place is None or b.place is None:
        return False
    if a.place.feature == "country":
        a, b = b, a
    return b.place.feature == "country" and a.place.feature != "country" and a.place.country_code == b.place.country_code


def _place_key(place: PlaceMention | None):
    if place is None:
        return None
    return place.place.geonameid if place.place else place.text.lower()


def _refers_back(s: _Sentence, event: Draft) -> bool:
    """Whether a sentence speaks of the same kind of attack again without saying where."""
    remote = taxonomy()[event.sub_event_type]["event_type"] == "Explosions/Remote violence"
    return any(t.sub_event_type == event.sub_event_type or (t.cue.startswith("remote") and remote)
               for t in s.triggers)


# ", but" and ";" join two statements. When each tells an event ("the assault was
# interrupted by a rebel offensive in Jobar, but has resumed with airstrikes"), each is
# read on its own, so that one event does not outrank the other.
_CONTRAST = re.compile(r",\s+but\s+|;\s+")


def _clauses(text: str, sentences: list[Sentence], triggers: list[TriggerMention]) -> list[tuple[int, Sentence]]:
    """The units events are read from: sentences, split at a contrast where the parts on
    both sides hold a trigger. Each unit comes with the index of its sentence."""
    starts = sorted(t.start for t in triggers)

    def has_trigger(start: int, end: int) -> bool:
        i = bisect_right(starts, start - 1)
        return i < len(starts) and starts[i] < end

    units: list[tuple[int, Sentence]] = []
    for index, sentence in enumerate(sentences):
        pieces: list[tuple[int, int]] = []
        start = sentence.start
        for cut in _CONTRAST.finditer(text, sentence.start, sentence.end):
            pieces.append((start, cut.start()))
            start = cut.end()
        pieces.append((start, sentence.end))
        if len(pieces) == 1:
            units.append((index, sentence))
            continue
        kept: list[tuple[int, int]] = []
        for piece in pieces:
            if kept and not (has_trigger(*kept[-1]) and has_trigger(*piece)):
                kept[-1] = (kept[-1][0], piece[1])
            else:
                kept.append(piece)
        units.extend((index, Sentence(a, b, sentence.paragraph)) for a, b in kept)
    return units


def build_drafts(doc: Doc, folded: str, country: str | None, keep_unlocated: bool = False,
                 cues: dict[str, list[Match]] | None = None) -> list[Draft]:
    """Event drafts of a document. An event whose place the text does not give is
    dropped (ACLED codes none without a location) unless `keep_unlocated`.

    A headline or lead often places the event only in a country, or nowhere ("Suicide
    bombing kills 16 in Syria"); the sentence right after it that tells the same kind
    of event, or adds detail without an event of its own, says where ("A suicide bomb
    blast killed 16 people in the city of Hasaka"): the event takes that place."""
    drafts: list[Draft] = []
    context: Draft | None = None
    context_index = -10
    lists = _document_lists(doc, folded, cues)
    units = _clauses(doc.text, doc.sentences, lists["triggers"])
    gathered = _by_sentence([clause for _, clause in units], lists)
    # Sentences count in the text's flow without the photo captions set among them: the
    # sentence after a caption follows the one before it.
    captions = [is_caption(doc.text, sentence) for sentence in doc.sentences]
    flow = list(itertools.accumulate(not c for c in captions))
    # Sentences holding a tally (the tallies stage ran before this one).
    sentence_starts = [sentence.start for sentence in doc.sentences]
    tallied = [False] * len(doc.sentences)
    for tally in doc.tallies:
        if tally.evidence:
            tallied[bisect_right(sentence_starts, tally.evidence[0].start) - 1] = True
    for unit, (index, clause) in enumerate(units):
        sentence = doc.sentences[index]
        if is_heading(doc.text, sentence) and index > 0 and clause.start == sentence.start:
            context = None
        if is_boilerplate(doc.text, sentence):
            continue  # a page's tag list
        s = _Sentence(doc, clause, folded, {name: found[unit] for name, found in gathered.items()})
        if tallied[index] and not any(d.precision == 1 and not d.ongoing for d in s.dates):
            continue  # a running count over a period ("a dozen hospitals since February 1"): a tally, no event
        if captions[index]:
            # A photo caption neither adds to the event before it nor leads the ones after.
            for draft in _drafts_for_sentence(s, None, country, doc.text):
                draft.caption = True
                drafts.append(draft)
            continue
        position = flow[index]
        near = context if context is not None and position - context_index <= CONTEXT_WINDOW else None
        new = _drafts_for_sentence(s, near, country, doc.text)
        # An ongoing campaign is no event (ACLED codes discrete ones); it may only say
        # who "the group" of the next sentence is. Told after an event of its kind, it
        # speaks of that event again and adds no date to it (see `_add_detail`).
        waged = [d for d in new if d.campaign]
        if waged:
            new = [d for d in new if not d.campaign]
        if near is not None and near.campaign:
            near = None  # it takes no detail and places no lead
        if near is not None and position - context_index == 1 and _coarse(near):
            refined = _refine(near, s, new, doc.text, country)
            if refined is not None:
                new = [d for d in new if d is not refined]
                context_index = position
                if not new:
                    continue
        located = [d for d in new if d.place is not None]
        unlocated = [d for d in new if d.place is None]
        # A following sentence that adds figures, weapons or speaks of the attack again
        # ("The strike put the hospital out of service") belongs to the event just told.
        attach = near is not None and (unlocated or (not new and (s.casualties or s.weapons or _refers_back(s, near))))
        if attach and waged and not new:
            attach = any(_same_happening(near, campaign) for campaign in waged)  # else another story
        if attach:
            # Detail about the event just told: figures, weapons, its victims.
            _add_detail(near, s)
            for d in unlocated:
                if d.sub_event_type == near.sub_event_type:  # else it is not evidence of this event's type
                    near.triggers.extend(d.triggers)
                if not near.targets:
                    near.targets = d.targets
            context_index = position
        elif waged and not new:
            context, context_index = waged[0], position
        for draft in located + (unlocated if not attach else []):
            # "also" tells one more event of the kind: it does not nest in the country-level one.
            twin = next((d for d in drafts if _same_happening(d, draft) and not (
                _place_key(d.place) != _place_key(draft.place) and _told_as_another(draft, doc.text))), None)
            if twin:
                if _coarse(twin) and not _coarse(draft):
                    twin.place = draft.place
                twin.absorb(draft)
                draft = twin
            else:
                drafts.append(draft)
            context, context_index = draft, position
    drafts = _settle_captions(drafts)
    drafts = _place_coarse_leads(drafts, doc.text)
    # Events in the order the text, not its photos, tells them: the first is the lead.
    caption_starts = {sentence.start for sentence, caption in zip(doc.sentences, captions) if caption}
    drafts.sort(key=lambda d: min((x.start for x in d.sentences if x.start not in caption_starts),
                                  default=d.sentences[0].start))
    _place_lead_by_headline(doc, drafts, country)
    for draft in drafts:
        if not draft.agents and draft.sub_event_type == "Air/drone strike":
            draft.agents = _air_force_named(doc, draft, folded)
        if draft.place is not None and draft.place.place is None and draft.place.anchor is None \
                and not any(r.place is not None for r in draft.extra_places):
            draft.extra_places.extend(_region_told_before(doc, draft, country))
    return drafts if keep_unlocated else [d for d in drafts if d.place is not None]


LEAD_SENTENCES = 3  # the headline and lead: where a report tells its main event


def _place_lead_by_headline(doc: Doc, drafts: list[Draft], country: str | None) -> None:
    """A headline that names one place and no event word ("Twenty children among the dead
    in Raqqa") says where the report's lead happened, when the lead itself says no more
    than the country ("air strikes killed 25 children in a town in eastern Syria")."""
    if not drafts or not doc.sentences or not is_heading(doc.text, doc.sentences[0]):
        return
    headline = doc.sentences[0]
    lead = drafts[0]
    place = lead.place
    lead_end = doc.sentences[min(LEAD_SENTENCES, len(doc.sentences)) - 1].end
    if place is None or place.place is None or place.place.feature != "country" or lead.sentences[0].start >= lead_end:
        return
    if any(headline.start <= t.start < headline.end for t in doc.triggers):
        return  # a headline telling an event is read as one
    named = [p for p in doc.places if headline.start <= p.start < headline.end and p.role in ("location", "region")
             and p.place is not None and p.place.feature != "country"
             and p.place.country_code == place.place.country_code and _in_country(p, country)]
    if len({_place_key(p) for p in named}) == 1:
        lead.place = named[0]


REGION_WINDOW = 2  # sentences before an event where the province of an unknown village may be named


def _region_told_before(doc: Doc, draft: Draft, country: str | None) -> list[PlaceMention]:
    """The province a report names just before an event at a village the gazetteer does
    not know ("... in Latakia province. Troops took Jabal al-Turkman"): the event is
    located in it, at the province's precision (3)."""
    first = draft.sentences[0]
    index = next((i for i, s in enumerate(doc.sentences) if s.start == first.start), None)
    if index is None:
        return []
    start = doc.sentences[max(0, index - REGION_WINDOW)].start
    regions = [p for p in doc.places if start <= p.start < first.end and p.place is not None
               and (p.role == "region" or p.place.feature == "admin1" or _names_its_province(p))
               and (country is None or p.place.country_code == country)]
    return regions[-1:]


def _names_its_province(mention: PlaceMention) -> bool:
    """A city that shares its name with its province ("Latakia", "Aleppo"): the press uses
    the name for either, and an unknown village told after it lies in that province."""
    place = mention.place
    return place is not None and place.feature == "populated" and bool(place.admin1) \
        and names_match(place.name, place.admin1)


AIR_AGENT_WINDOW = 2  # sentences after an air strike's own where its air force may be named


def _air_force_named(doc: Doc, draft: Draft, folded: str) -> list[ActorMention]:
    """Who flew an air strike its own sentences do not attribute: an air force named in
    them or in the next sentences ("it was unclear if the strikes were carried out by
    Syrian government or Russian war planes": the first candidate). None when unnamed."""
    first = draft.sentences[0]
    index = next((i for i, s in enumerate(doc.sentences) if s.start == first.start), None)
    if index is None:
        return []
    sentences = list(draft.sentences) + [s for s in doc.sentences[index + 1:index + 1 + AIR_AGENT_WINDOW]
                                         if s not in draft.sentences]
    for sentence in sentences:
        inside = [a for a in doc.actors if sentence.start <= a.start < sentence.end]
        air = bool(_air_matcher().find(doc.text[sentence.start:sentence.end], folded[sentence.start:sentence.end]))
        named = [a for a in inside if a.actor.kind == "air"
                 or (air and a.actor.inter in (1, 8) and a.actor.kind != "weak")]
        if named:
            return named[:1]
    return []


def _add_detail(event: Draft, s: _Sentence) -> None:
    """A sentence that adds figures, weapons or victims to the event just told."""
    event.sentences.append(s.sentence)
    if event.date is None:
        # "Earlier this month, they completed the recapture"; not "the town has been shelled
        # since 2015": a campaign's period dates no event.
        event.date = next((d for d in s.dates if _reading(d, s, None, s.text) == "date"), None)
        event.dateline = event.date is not None and event.date in s.datelines
    event.casualties.extend(c for c in s.casualties if c not in event.casualties)
    event.weapons.extend(w for w in s.weapons if w not in event.weapons)
    if not event.targets and any(_is_civilian_victim(c) for c in s.casualties):
        event.targets = [a for a in s.actors if a.actor.inter == 7][:1]  # "killed three doctors"


def _coarse(draft: Draft) -> bool:
    """Placed nowhere, only in a country, or at a name the gazetteer does not know."""
    place = draft.place
    if place is None:
        return True
    if place.place is None:
        return place.anchor is None and place.role != "region" and not any(r.place for r in draft.extra_places)
    return place.place.feature == "country"


def _within(place: PlaceMention, coarse: PlaceMention | None, regions: list[PlaceMention] = ()) -> bool:
    """Whether a place is finer than a country-level one and lies in that country: a
    known place, or an unknown one tied to a known one ("near X") or to a region named
    with it ("the village of Duwayleh in Idlib province")."""
    if place.place is None:
        return place.anchor is not None or place.role == "region" or any(r.place is not None for r in regions)
    if place.place.feature == "country":
        return False
    return coarse is None or coarse.place is None or place.place.country_code == coarse.place.country_code


def _compatible(a: str, b: str) -> bool:
    """Two sub-event types one report may use for one happening: the same, or two
    remote-violence types ("a suicide bombing" and "the blast")."""
    if a == b:
        return True
    remote = "Explosions/Remote violence"
    return taxonomy()[a]["event_type"] == remote == taxonomy()[b]["event_type"] and not {a, b} & _separate()


# A sentence that speaks of the event just told: "most of the dead were evacuees".
_TOLD_NOUNS = _cue_words("told_nouns")
_ANAPHOR = re.compile(rf"\b(?:the|this|that) (?:[a-z]+ )?{_TOLD_NOUNS}\b", re.I)
# The same, as the subject opening the sentence ("The killings took place in a village
# north of X, which troops entered on Tuesday"): the sentence is about the event just
# told, even when it tells another one in passing.
_ANAPHOR_SUBJECT = re.compile(rf"\W*(?:the|this|these|those) (?:[a-z]+ )?{_TOLD_NOUNS}\b", re.I)


def _refine(event: Draft, s: _Sentence, new: list[Draft], text: str, country: str | None = None) -> Draft | None:
    """Place a coarse event with the sentence right after it, if that sentence tells the
    same event more precisely. Returns the draft of the sentence it absorbed, if any.

    The sentence may tell it as an event of a compatible kind, or speak of it again
    without an event of its own (figures, weapons, "the attack", "Tuesday's strike"), or
    open with it as its subject. A place abroad ("the Istanbul-based coalition said")
    never refines an event in the report's country."""
    if _ANOTHER_EVENT.search(text, s.sentence.start, s.sentence.end):
        return None  # "Elsewhere, ...", "In a separate attack, ...": another event
    for draft in new:
        if draft.place is None or not _within(draft.place, event.place, draft.extra_places):
            continue
        if not _in_country(draft.place, country) or _affiliation_place(draft.place, text):
            continue
        if _told_as_another(draft, text):
            continue
        if not _compatible(event.sub_event_type, draft.sub_event_type):
            continue
        if not _lead_dates_agree(event, draft):
            continue
        event.place = draft.place
        rank = _precedence()
        event.sub_event_type = min((event.sub_event_type, draft.sub_event_type), key=lambda t: rank.get(t, 99))
        event.absorb(draft)
        return draft
    subject = _ANAPHOR_SUBJECT.match(text, s.sentence.start) is not None
    if new and not subject:
        return None
    if not (subject or s.casualties or s.weapons or _refers_back(s, event)
            or _ANAPHOR.search(text, s.sentence.start, s.sentence.end)):
        return None
    places = [p for p in s.places if _within(p, event.place) and _in_country(p, country)
              and not _affiliation_place(p, text)
              and not any(a.start <= p.start and p.end <= a.end and _names_actor(a, text) for a in s.actors)]
    if not places:
        return None
    event.place = places[0]
    event.extra_places.extend(p for p in s.places if p.role == "region")
    if new:  # the sentence's own event keeps its figures; this one gains its place
        event.sentences.append(s.sentence)
    else:
        _add_detail(event, s)
    return event


# Words that announce another happening than the one just told (general news usage).
# ("Meanwhile" is not among them: it often brings another source's account of the same.)
_ANOTHER_EVENT = re.compile(rf"\b{_cue_words('another_event')}\b", re.I)
# "also" right before an event's verb: one more event of the kind ("also conducted air raids").
_ALSO_BEFORE = re.compile(r"\balso\s+(?:[\w-]+\s+){0,2}$", re.I)


def _told_as_another(draft: Draft, text: str) -> bool:
    """Whether a draft is told as one more event: its event word follows "also" ("forces
    also carried out air raids"), or its sentence opens another story ("Elsewhere, ...")."""
    first = draft.sentences[0]
    return any(_ALSO_BEFORE.search(text, max(first.start, t.start - 40), t.start) for t in draft.triggers) \
        or _ANOTHER_EVENT.search(text, first.start, first.end) is not None


def _in_country(place: PlaceMention, country: str | None) -> bool:
    """Whether a place is unknown or lies in the report's country (when it has one)."""
    return country is None or place.place is None or place.place.country_code == country


_AFFILIATION_AFTER = re.compile(rf"-{_cue_words('affiliation_suffixes')}\b", re.I)


def _affiliation_place(place: PlaceMention, text: str) -> bool:
    """A place that qualifies a name ("the Istanbul-based coalition", "Iran-backed
    militias"): where someone is from, not where the event happened."""
    return _AFFILIATION_AFTER.match(text, place.end) is not None


def _place_coarse_leads(drafts: list[Draft], text: str) -> list[Draft]:
    """A headline or lead that places its event only in a country ("Air strikes kill dozens
    in Syria") tells, in brief, an event the report then places: the first event of a
    compatible kind, in that country and on an agreeing date, that the text places more
    finely. The two become one, at the finer place. (Sentences right after the lead are
    handled as they come, by `_refine`; this reaches further down.)"""
    kept: list[Draft] = []
    for draft in drafts:
        finer = None
        if draft.place is not None and draft.place.place is not None and draft.place.place.feature == "country":
            finer = next((d for d in drafts if d is not draft and not _coarse(d) and d.place is not None
                          and _compatible(draft.sub_event_type, d.sub_event_type)
                          and _within(d.place, draft.place, d.extra_places) and _lead_dates_agree(draft, d)
                          and not _told_as_another(d, text)), None)
        if finer is None:
            kept.append(draft)
            continue
        rank = _precedence()
        finer.sub_event_type = min((draft.sub_event_type, finer.sub_event_type), key=lambda t: rank.get(t, 99))
        finer.absorb(draft)
        finer.sentences.sort(key=lambda x: x.start)
    return kept


def _settle_captions(drafts: list[Draft]) -> list[Draft]:
    """A caption shows an event the report tells: it joins the told event of its type
    whose place is its own or contains it ("bombardment of Halfaya" in a report on the
    bombing of northern Hama); a caption matching no told event is dropped, unless the
    report tells none (then the caption is all there is)."""
    told = [d for d in drafts if not d.caption]
    if len(told) == len(drafts):
        return drafts
    if not told:
        return drafts
    for draft in drafts:
        if not draft.caption:
            continue
        host = next((d for d in told if d.sub_event_type == draft.sub_event_type and _contains(d.place, draft.place)),
                    None)
        if host is not None:
            if host.place is not None and draft.place is not None and _place_key(host.place) != _place_key(draft.place):
                host.place = draft.place  # the photo names the spot
            # The caption supports the event; the text, not the photo, tells it first.
            host.absorb(Draft(draft.sub_event_type, draft.sentences, [], date=draft.date, dateline=draft.dateline,
                              agents=draft.agents, weapons=draft.weapons, casualties=draft.casualties,
                              extra_places=draft.extra_places, caption=True))
    return told


def _contains(outer: PlaceMention | None, inner: PlaceMention | None) -> bool:
    """Whether `inner` is `outer` or lies in it (an admin1, a region or the country)."""
    if outer is None or inner is None:
        return False
    if _place_key(outer) == _place_key(inner):
        return True
    if outer.place is None or inner.place is None:
        return False
    if outer.place.feature == "country" or outer.role == "region" or outer.place.feature == "admin1":
        if outer.place.feature == "country":
            return inner.place.country_code == outer.place.country_code
        return inner.place.admin1 == outer.place.admin1 and inner.place.country_code == outer.place.country_code
    return False


# -- drafts into events ---------------------------------------------------------------

RESTATED_GAP = 30  # characters: figures of distinct groups are listed together ("two nurses and two patients")


def _restated(casualties: list[CasualtyMention], sentences: list[Sentence]) -> list[CasualtyMention]:
    """The figures of an event without restatements: the same figure from the same
    source in another sentence or clause ("kills 62 rebels" in the headline, "62 fighters
    were killed" in the lead) is one count, not two groups to add up ("killing two nurses
    and two patients" are two)."""
    def sentence_of(c: CasualtyMention) -> int:
        return next((i for i, s in enumerate(sentences) if s.start <= c.start < s.end), -1)

    kept: list[CasualtyMention] = []
    for c in sorted(casualties, key=lambda c: c.start):
        source = c.source.source.lower() if c.source else None
        if any(k.kind == c.kind and k.value == c.value and (k.source.source.lower() if k.source else None) == source
               and (sentence_of(k) != sentence_of(c) or c.start - k.end > RESTATED_GAP) for k in kept):
            continue
        kept.append(c)
    return kept


def _claims(doc: Doc, casualties: list[CasualtyMention]) -> list[Claim]:
    return [
        Claim(kind=c.kind, value=c.value, victims=c.victims, source=c.source.source if c.source else None,
              approximate=c.approximate,
              evidence=[doc.span(c)] + ([doc.span(c.source)] if c.source else []))
        for c in casualties
    ]


def _event_id(report_id: str, draft: Draft, iso3: str) -> str:
    key = f"{report_id}|{draft.sub_event_type}|{_place_key(draft.place)}|{draft.date.value if draft.date else ''}"
    number = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % 10**12
    return f"{iso3 or 'XXX'}{number:012d}"


def to_event(doc: Doc, draft: Draft, locate, country_info) -> Event:
    """Fill every ACLED column of one draft, recording the evidence of each."""
    report = doc.report
    info = taxonomy()[draft.sub_event_type]
    evidence: dict[str, list[Span]] = {}
    spans_of: dict[tuple[int, int], Span] = {}  # one Span per stretch of text, shared by the fields it backs

    def cite(fields: tuple[str, ...], mentions) -> None:
        """Back each field with the spans of `mentions` (None skipped, a repeated stretch
        cited once), after any it already has."""
        spans: list[Span] = []
        keys: set[tuple[int, int]] = set()
        for m in mentions:
            if m is None or (key := (m.start, m.end)) in keys:
                continue
            keys.add(key)
            span = spans_of.get(key)
            if span is None:
                span = spans_of[key] = doc.span(m)
            spans.append(span)
        if not spans:
            return
        for name in fields:
            have = evidence.get(name)
            if have is None:
                evidence[name] = spans.copy()
            else:  # cited before: only what it lacks (a Span equals another of the same stretch)
                have.extend(span for span in spans if span not in have)

    cite(("event_type", "sub_event_type", "disorder_type", "plover_event", "plover_mode"), draft.triggers)

    # Where.
    lat = lon = None
    precision = None
    place_entry = None
    admin1 = admin2 = ""
    country_code = ""
    location = ""
    place = draft.place
    if place is not None:
        lat, lon, precision, place_entry = locate(place, draft.extra_places)
        location = location_name(place)
        if place_entry is not None:
            admin1, admin2, country_code = place_entry.admin1, place_entry.admin2, place_entry.country_code
        cite(("location",), [place])
        support = [place, place.anchor] + ([r for r in draft.extra_places if place_entry and
                                            r.place is not None and r.place.admin1 == admin1] if not place.place else [])
        cite(("latitude", "longitude", "geo_precision", "admin1", "admin2", "country", "iso", "region",
              "geonames_id"), support)
    country = country_info(country_code) if country_code else {}

    # When.
    if draft.date is not None:
        event_date, time_precision, date_source = draft.date.value, draft.date.precision, "text"
        cite(("event_date", "year", "time_precision", "date_source"), [draft.date])
        date_note = ""
    elif report.published is not None:
        event_date, date_source = report.published, "published"
        time_precision = 2 if report.published_inferred else 1
        date_note = " Date: the report's publication date (the text gives none for this event)."
    else:  # neither the text nor the report dates it: the day it was read, flagged
        event_date, time_precision, date_source = date.today(), 3, "ingested"
        date_note = " Date unknown: neither the report nor its text gives one; the day of ingest is used."

    # Who.
    event_country = country_code or None
    actor1 = actor2 = assoc1 = side1 = side2 = ""
    inter1 = inter2 = None
    if draft.agents:
        head = draft.agents[0]
        actor1 = actor_rules.resolve_name(head.actor, event_country)
        inter1 = actor_rules.inter_code(head.actor, event_country)
        side1 = actor_rules.side(head.actor, event_country)
        cite(("actor1", "inter1", "side1"), [head])
        allies = sorted({actor_rules.resolve_name(a.actor, event_country) for a in draft.agents[1:]} - {actor1})
        assoc1 = "; ".join(allies)
        cite(("assoc_actor_1",), draft.agents[1:] if allies else [])
    victims_civilian = [c for c in draft.casualties if _is_civilian_victim(c)]
    if draft.targets:
        target = draft.targets[0]
        actor2 = actor_rules.resolve_name(target.actor, event_country)
        inter2 = actor_rules.inter_code(target.actor, event_country)
        side2 = actor_rules.side(target.actor, event_country)
        cite(("actor2", "inter2", "side2"), [target])
    elif victims_civilian and country:
        actor2, inter2, side2 = f"Civilians ({country['name']})", 7, "civilian"
        cite(("actor2", "inter2", "side2"), victims_civilian)
    interaction = None
    if inter1 is not None:
        interaction = int(f"{min(inter1, inter2)}{max(inter1, inter2)}") if inter2 is not None else inter1 * 10
        cite(("interaction",), draft.agents[:1] + draft.targets[:1])
    civilian_targeting = "Civilian targeting" if inter2 == 7 else ""
    if civilian_targeting:
        cite(("civilian_targeting",), draft.targets[:1] or victims_civilian)

    # With what, how many.
    weapons = sorted({w.weapon for w in draft.weapons})
    cite(("weapons",), draft.weapons)
    claims = _claims(doc, _restated(draft.casualties, draft.sentences))
    fatalities = acled_figure(claims, "fatalities") or 0
    injuries = acled_figure(claims, "injuries")
    cite(("fatalities",), [c for c in draft.casualties if c.kind == "fatalities"] if fatalities else [])
    cite(("injuries",), [c for c in draft.casualties if c.kind == "injuries"])

    notes = " ".join(doc.text[s.start:s.end] for s in draft.sentences)
    if len(notes) > NOTES_MAX:
        notes = notes[:NOTES_MAX].rsplit(" ", 1)[0] + " ..."
    cite(("notes",), draft.sentences)
    if place is not None and place.anchor is not None and precision == 2:
        distance = f"about {place.distance_km:g} km " if place.distance_km else ""
        direction = f"{place.direction} of " if place.direction and place.direction != "near" else "near "
        notes += f" Location: {place.text}, {distance}{direction}{place.anchor.text}."
    notes += date_note

    confidence = 0.4 + 0.15 * (precision == 1) + 0.15 * bool(actor1) + 0.1 * (draft.date is not None) \
        + 0.1 * bool(claims) + 0.05 * (len(draft.sentences) > 1)
    event = Event(
        event_id_cnty=_event_id(report.id, draft, country.get("iso3", "")),
        event_date=event_date, year=event_date.year, time_precision=time_precision,
        disorder_type=info["disorder_type"], event_type=info["event_type"], sub_event_type=draft.sub_event_type,
        actor1=actor1, assoc_actor_1=assoc1, inter1=inter1, actor2=actor2, inter2=inter2, side1=side1, side2=side2,
        date_source=date_source,
        interaction=interaction, civilian_targeting=civilian_targeting,
        iso=country.get("iso_numeric"), region=country.get("region", ""), country=country.get("name", ""),
        admin1=admin1, admin2=admin2, location=location, latitude=lat, longitude=lon, geo_precision=precision,
        source=report.outlet or "", notes=notes.strip(), fatalities=fatalities,
        geonames_id=place_entry.geonameid if place_entry is not None and place_entry.geonameid > 0 else None,
        weapons=weapons, injuries=injuries, plover_event=info["plover"], plover_mode=info["mode"],
        claims=claims, confidence=round(min(confidence, 0.95), 2), report_ids=[report.id],
        evidence=evidence,
    )
    return event


def annotate(doc: Doc, folded: str, locate, country_info, keep_unlocated: bool = False) -> None:
    """Triggers and weapons, then events. `locate(place, regions)` gives
    (lat, lon, geo_precision, gazetteer entry); `country_info(iso2)` the country's
    ACLED name, numeric ISO code, ISO3 and region."""
    cues = find_cues(folded)  # one pass over the text for every dictionary of this stage
    find_triggers(doc, folded, cues)
    find_weapons(doc, folded, cues)
    country = actor_rules.focus_country(doc)
    drafts = build_drafts(doc, folded, country, keep_unlocated, cues)
    doc.events = [to_event(doc, draft, locate, country_info) for draft in drafts]
