"""A released finding is read in one place: the facts stored beside its headline, worded
in the reader's language (:func:`backchannel.model.disclosure.words`).

* every kind stores a versioned facts document, and its English words are exactly the
  headline it was released with;
* in Russian no English word is left but the names the facilitator typed;
* a record stored before facts were kept (its headline only) reads the same; a headline
  of another form is shown as it is.
"""

from __future__ import annotations

import re

import pytest

from backchannel.i18n import translations
from backchannel.model.disclosure import (
    FACTS_VERSION,
    Disclosed,
    EscalationStep,
    Kind,
    blind_disclosed,
    disclose,
    escalation_disclosed,
    words,
)
from backchannel.model.findings import Findings, RedLineFact

NO = "s0-no-i1-0"
IF = "s1-if-i1-01-then-i2-0"
FINDINGS = Findings(
    sides=["Side A", "Side B"],
    zone=True,
    issues={"i1": "Ceasefire", "i2": "Sanctions"},
    options={"i1": ["none", "partial", "full"], "i2": ["keep", "lift"]},
    viable={"i1": ["full"], "i2": ["keep", "lift"]},
    overlap={"i1": True, "i2": False},
    blocked={},
    red_lines={
        NO: RedLineFact(side=0, text="Ceasefire: not 'none'", firmness=1.0, stated=False),
        IF: RedLineFact(
            side=1,
            text="if Ceasefire is none or partial, then Sanctions must be keep",
            firmness=0.5,
            stated=False,
        ),
    },
    clash_sets=[[NO, IF]],
    packages={"nash": {"Ceasefire": "full", "Sanctions": "lift"}},
    utilities={"nash": {"Side A": 0.6, "Side B": 0.7}},
    partial_packages={"ks": {"Ceasefire": "full"}},
    frontier=[[0.2, 0.9], [0.6, 0.7], [0.9, 0.1]],
    frontier_size=3,
)
CASES = [
    (Kind.ZONE, "", None),
    (Kind.OVERLAP, "i1", 0),
    (Kind.OVERLAP, "i2", None),
    (Kind.CLASH, NO, 0),
    (Kind.CLASH, IF, 1),
    (Kind.PACKAGE, "nash", 1),
    (Kind.PACKAGE, "partial:ks", 0),
    (Kind.FRONTIER, "", 1),
]
NAMES = {"Ceasefire", "Sanctions", "none", "partial", "full", "keep", "lift", "USA", "Russia"}
NAMES |= {
    "escalate",
    "YNNY",
    "SEQ",
    "Side",
    "nash",
    "ks",
    "nope",
    "equilibrium",
}  # and what was asked
RUSSIAN = translations("ru")


def english_left(text: str) -> list[str]:
    """The Latin words of ``text`` that are not names the facilitator or a model gave."""
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in NAMES]


@pytest.mark.parametrize(("kind", "parameter", "side"), CASES)
def test_each_kind_stores_its_facts_and_reads_in_russian(
    kind: Kind, parameter: str, side: int | None
) -> None:
    told = disclose(FINDINGS, kind, parameter, side)
    assert told.facts is not None
    assert (told.facts.version, told.facts.kind) == (FACTS_VERSION, kind)
    assert str(words(told)) == told.headline  # the English words are the headline released
    russian = words(told).render(RUSSIAN)
    assert russian != told.headline
    assert english_left(russian) == [], russian


def test_the_facts_hold_the_values() -> None:
    clash = disclose(FINDINGS, Kind.CLASH, IF, 1).facts
    assert clash is not None and clash.answer is True and clash.red_line is not None
    assert clash.red_line.then_issue == "Sanctions"
    assert clash.red_line.options == ["none", "partial"]
    overlap = disclose(FINDINGS, Kind.OVERLAP, "i2", 0).facts
    assert overlap is not None and (overlap.issue, overlap.answer) == ("Sanctions", False)
    frontier = disclose(FINDINGS, Kind.FRONTIER, "", 0).frontier
    assert frontier is not None and frontier.sides == ("Side A", "Side B")
    assert frontier.marks == {"nash": [0.6, 0.7]} and frontier.total == 3


@pytest.mark.parametrize(("kind", "parameter", "side"), CASES[:-1])
def test_a_record_stored_before_facts_reads_the_same(
    kind: Kind, parameter: str, side: int | None
) -> None:
    told = disclose(FINDINGS, kind, parameter, side)
    stored = told.model_dump(mode="json", exclude={"facts", "frontier"})
    old = Disclosed.model_validate(stored)
    assert old == told  # so the same finding is still refused a second time in a round
    assert words(old).render(RUSSIAN) == words(told).render(RUSSIAN)


def test_a_headline_of_another_form_is_shown_as_it_is() -> None:
    odd = Disclosed.model_validate({"kind": "zone", "headline": "Something else."})
    assert odd.facts is None
    assert words(odd).render(RUSSIAN) == "Something else."


def test_an_escalation_finding_reads_in_russian() -> None:
    taken = {"USA": ["escalate"], "Russia": []}
    step = EscalationStep(mover="USA", state="YNNY", taken=taken)
    told = escalation_disclosed(
        Kind.PATH,
        concept="seq",
        concept_name="sequential stability (SEQ)",
        state="YNNY",
        state_name=None,
        taken=taken,
        steps=[step, step],
    )
    assert str(words(told)) == told.headline
    russian = words(told).render(RUSSIAN)
    assert english_left(russian) == [], russian
    assert "USA" in russian and "YNNY" in russian


def test_a_refusal_of_disclose_speaks_russian() -> None:
    for kind, parameter, side in [
        (Kind.OVERLAP, "i9", 0),
        (Kind.CLASH, NO, 1),
        (Kind.PACKAGE, "nope", 0),
        (Kind.EQUILIBRIUM, "", 0),
    ]:
        with pytest.raises(Exception) as caught:
            disclose(FINDINGS, kind, parameter, side)
        message, hint = caught.value.shown_in(RUSSIAN)  # type: ignore[attr-defined]
        assert hint is not None
        assert english_left(f"{message} {hint}") == [], (message, hint)
    empty = FINDINGS.model_copy(update={"frontier": []})
    with pytest.raises(Exception) as caught:
        disclose(empty, Kind.FRONTIER, "", 0)
    message, hint = caught.value.shown_in(RUSSIAN)  # type: ignore[attr-defined]
    assert english_left(f"{message} {hint}") == []


@pytest.mark.parametrize("finding", ["overlap", "redlines", "exists", "nash"])
def test_a_blind_finding_reads_as_released_and_in_russian(finding: str) -> None:
    issues = [("Ceasefire", ["none", "full"]), ("Sanctions", ["keep", "lift"])]
    told = blind_disclosed(finding, [True, False], True, [1, 0], issues, issue=0)
    assert str(words(told)) == told.headline
    russian = words(told).render(RUSSIAN)
    assert russian != told.headline and english_left(russian) == [], russian
    stored = told.model_dump(mode="json", exclude={"facts"})
    old = Disclosed.model_validate(stored)  # read back from its headline alone
    assert old == told and words(old).render(RUSSIAN) == russian


def test_the_red_lines_finding_does_not_read_as_the_whole_zone() -> None:
    issues = [("Ceasefire", ["none", "full"])]
    lines = words(blind_disclosed("redlines", None, False, None, issues))
    zone = words(blind_disclosed("exists", None, False, None, issues))
    assert str(lines).startswith("Some package respects every side's red lines")
    assert lines.render(RUSSIAN) != zone.render(RUSSIAN)
