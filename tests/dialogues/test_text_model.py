"""The pure model of the single negotiating text: clause states, the agreement rule,
versions and the word diff (property tests against a plain restatement of each rule)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from backchannel.model.text import (
    Answer,
    Change,
    Clause,
    ClauseState,
    Draft,
    Response,
    Version,
    agreement,
    clause_state,
    from_package,
    next_version,
    version_diff,
    word_diff,
    words,
)

SIDES = ["A", "B", "C"]
answers = st.none() | st.sampled_from(list(Answer))
clause_answers = st.fixed_dictionaries(dict.fromkeys(SIDES, answers))


@given(clause_answers)
def test_a_clause_is_agreed_exactly_when_every_side_agreed(
    given_answers: dict[str, Answer | None],
) -> None:
    state = clause_state(given_answers, SIDES)
    everyone = all(a is Answer.AGREE for a in given_answers.values())
    assert (state is ClauseState.AGREED) == everyone


@given(clause_answers)
def test_the_worst_answer_decides_the_state(given_answers: dict[str, Answer | None]) -> None:
    state = clause_state(given_answers, SIDES)
    values = list(given_answers.values())
    if Answer.REJECT in values:
        assert state is ClauseState.REJECTED
    elif Answer.BRACKET in values:
        assert state is ClauseState.BRACKETED
    elif None in values:
        assert state is ClauseState.NO_ANSWER
    elif Answer.AD_REFERENDUM in values:
        assert state is ClauseState.AD_REFERENDUM
    else:
        assert state is ClauseState.AGREED


def test_a_side_that_has_not_answered_is_no_answer() -> None:
    assert clause_state({"A": Answer.AGREE}, ["A", "B"]) is ClauseState.NO_ANSWER
    assert clause_state({}, []) is ClauseState.NO_ANSWER


@given(st.lists(clause_answers, max_size=6))
def test_nothing_is_agreed_until_everything_is_agreed(
    text: list[dict[str, Answer | None]],
) -> None:
    result = agreement(text, SIDES)
    every = bool(text) and all(a is Answer.AGREE for clause in text for a in clause.values())
    assert result.agreed == every
    assert (result.missing == ()) == (every or not text)
    for missing in result.missing:
        clause = text[missing.number - 1]
        assert missing.state is clause_state(clause, SIDES) is not ClauseState.AGREED
        assert set(missing.sides) == {s for s in SIDES if clause[s] is not Answer.AGREE}
        assert missing.sides


def test_ad_referendum_everywhere_is_not_agreement() -> None:
    text = [{"A": Answer.AGREE, "B": Answer.AD_REFERENDUM}]
    result = agreement(text, ["A", "B"])
    assert not result.agreed
    assert result.missing[0].state is ClauseState.AD_REFERENDUM
    assert result.missing[0].sides == ("B",)


def test_an_empty_text_is_not_agreed() -> None:
    assert not agreement([], SIDES).agreed


texts = st.text(st.sampled_from("ab cd\n*-"), max_size=40)


@given(texts, texts)
def test_the_diff_rebuilds_both_wordings(old: str, new: str) -> None:
    pieces = word_diff(old, new)
    assert "".join(t for c, t in pieces if c is not Change.INSERTED) == old
    assert "".join(t for c, t in pieces if c is not Change.DELETED) == new
    assert all(t for _, t in pieces)
    assert all(a[0] is not b[0] for a, b in itertools.pairwise(pieces))


@given(texts)
def test_the_same_wording_has_no_change(text: str) -> None:
    assert all(c is Change.SAME for c, _ in word_diff(text, text))
    assert "".join(words(text)) == text


def test_the_diff_works_on_whole_words() -> None:
    assert word_diff("the parties shall meet", "the parties may meet") == [
        (Change.SAME, "the parties "),
        (Change.DELETED, "shall"),
        (Change.INSERTED, "may"),
        (Change.SAME, " meet"),
    ]


def _drafts(*bodies: str, ids: tuple[str | None, ...] = ()) -> list[Draft]:
    ids = ids or (None,) * len(bodies)
    return [Draft(id=i, body=b) for i, b in zip(ids, bodies, strict=True)]


def test_a_changed_clause_gets_a_new_revision_and_the_others_keep_theirs() -> None:
    first = next_version(None, _drafts("one", "two"), ["c1", "c2"])
    assert [(c.id, c.revision) for c in first.clauses] == [("c1", 1), ("c2", 1)]
    second = next_version(first, _drafts("one", "TWO", "three", ids=("c1", "c2", None)), ["c3"])
    assert second.number == 2
    assert [(c.id, c.revision) for c in second.clauses] == [("c1", 1), ("c2", 2), ("c3", 2)]
    third = next_version(second, _drafts("TWO", ids=("c2",)), [])
    assert [(c.id, c.revision) for c in third.clauses] == [("c2", 2)]


def test_relinking_a_clause_is_a_change() -> None:
    first = next_version(None, [Draft(body="x", issue_id="i1", option="a")], ["c1"])
    second = next_version(first, [Draft(id="c1", body="x", issue_id="i1", option="b")], [])
    assert second.clauses[0].revision == 2


def test_two_drafts_may_not_replace_one_clause() -> None:
    first = next_version(None, _drafts("one"), ["c1"])
    with pytest.raises(ValueError, match="same clause"):
        next_version(first, _drafts("a", "b", ids=("c1", "c1")), [])


@given(st.lists(st.sampled_from(["x", "y", "z w"]), max_size=5), st.data())
def test_the_version_diff_covers_every_clause_once(bodies: list[str], data: st.DataObject) -> None:
    old = next_version(None, _drafts(*bodies), [f"c{i}" for i in range(len(bodies))])
    kept = data.draw(st.lists(st.sampled_from(old.clauses), unique=True)) if old.clauses else []
    drafts = [Draft(id=c.id, body=c.body + data.draw(st.sampled_from(["", " more"]))) for c in kept]
    drafts += [Draft(body="new")]
    new = next_version(old, drafts, ["n1"])
    diff = version_diff(old, new)
    assert sorted(d.new for d in diff if d.new is not None) == list(range(1, len(new.clauses) + 1))
    olds = [d.old for d in diff if d.old is not None]
    assert sorted(olds) == list(range(1, len(old.clauses) + 1))
    for d in diff:
        if d.old is not None and d.new is not None:
            assert d.changed == (old.clauses[d.old - 1].body != new.clauses[d.new - 1].body)


def test_a_bracket_needs_wording_and_only_a_bracket_has_it() -> None:
    with pytest.raises(ValidationError, match="proposes"):
        Response(clause_id="c", revision=1, answer=Answer.BRACKET, wording="  ")
    with pytest.raises(ValidationError, match="only a bracket"):
        Response(clause_id="c", revision=1, answer=Answer.AGREE, wording="x")
    assert Response(clause_id="c", revision=1, answer=Answer.BRACKET, wording="y").wording == "y"


def test_a_version_refuses_two_clauses_with_one_id() -> None:
    clause = Clause(id="c", body="x", revision=1)
    with pytest.raises(ValidationError, match="same id"):
        Version(number=1, clauses=[clause, clause])


def test_a_draft_from_a_package_has_one_clause_per_issue_in_agenda_order() -> None:
    issues = {"i1": "Inspections", "i2": "Timeline", "i3": "Funding"}
    drafts = from_package(issues, {"Funding": "shared", "Inspections": "annual"})
    assert [(d.body, d.issue_id, d.option) for d in drafts] == [
        ("Inspections: annual.", "i1", "annual"),
        ("Funding: shared.", "i3", "shared"),
    ]
