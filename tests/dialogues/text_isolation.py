"""The negotiating text in the isolation state machine (a mixin of ``IsolationMachine``).

The machine's model keeps, per text, its versions (clause ids and revisions), the
latest response of each side to each clause revision (with its private comment) and
every release. Rules create and revise texts, respond as anyone and release as anyone;
the sweep reads every text of every dialogue as every actor and compares what each one
sees (answers, wordings, comments, whether released) with the model, and tries every
write a seat may not make.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import rule

from backchannel.errors import BackchannelError, InputError, NotAllowedNow, NotFound
from backchannel.model.text import Draft
from backchannel.services import text_views, texts
from backchannel.services.access import FACILITATOR, MEMBER, OBSERVER
from backchannel.services.releases import OBSERVERS

ANSWERS = ["agree", "ad_referendum", "bracket", "reject"]
Key = tuple[str, str, int]  # side, clause id, revision


@dataclass
class TextModel:
    id: str
    versions: dict[int, list[tuple[str, int]]]
    responses: dict[Key, tuple[str, str, str]] = field(default_factory=dict)
    releases: list[tuple[str, int, str, dict[tuple[str, int], tuple[str, str]]]] = field(
        default_factory=list
    )
    bodies: list[str] = field(default_factory=list)

    @property
    def version(self) -> int:
        return max(self.versions)


class TextIsolation:
    """Rules and checks of the negotiating text, on the machine's ``p``, ``actors``, ``d``
    and ``texts``, with its helpers (``unique``, ``record``, ``pick_dialogue``,
    ``pick_actor``) and the module's ``attempt`` and ``same``."""

    p: Any
    actors: Any
    d: Any
    texts: dict[str, dict[str, TextModel]]
    attempt: Any
    same: Any
    unique: Any
    record: Any
    pick_dialogue: Any
    pick_actor: Any

    def every_text(self) -> list[tuple[str, str]]:
        """(dialogue key, text id) of every text, and a bogus one."""
        out = [(k, t) for k, found in self.texts.items() for t in found]
        return [*out, ("", "no-such-text-" + "x" * 9)]

    def _clauses(self, d: Any, text_id: str, name: str) -> list[tuple[str, int]]:
        view = text_views.text_view(self.p, self.actors[name], d.id, text_id)
        return [(c.clause.id, c.clause.revision) for c in view.clauses]

    # ---------------------------------------------------------- modelled writes
    def do_create_text(self, d: Any, name: str) -> None:
        bodies = [self.unique("CANARY clause"), self.unique("CANARY clause")]
        expected = None if d.is_facilitator(name) else NotFound
        text_id = self.attempt(
            f"{name} drafts a text in {d.key}",
            expected,
            lambda: texts.create_text(
                self.p, self.actors[name], d.id, "T", [Draft(body=b) for b in bodies]
            ),
        )
        if expected is None:
            clauses = self._clauses(d, text_id, name)
            assert [r for _, r in clauses] == [1, 1]
            self.texts.setdefault(d.key, {})[text_id] = TextModel(
                text_id, {1: clauses}, bodies=bodies
            )
            self.record(d, ("text.created", "all", name))

    def do_revise_text(self, d: Any, name: str, key: str, text_id: str) -> None:
        """A new version whose first clause is reworded (the second keeps its revision)."""
        model = self.texts.get(key, {}).get(text_id) if key == d.key else None
        expected = None if d.is_facilitator(name) and model is not None else NotFound
        if model is None:
            drafts, based_on = [Draft(body="probe")], 1
        else:
            (first, _), (second, _) = model.versions[model.version]
            reworded = self.unique("CANARY amended")
            drafts = [Draft(id=first, body=reworded), Draft(id=second, body=model.bodies[1])]
            based_on = model.version
        found = self.attempt(
            f"{name} revises {text_id} in {d.key}",
            expected,
            lambda: texts.revise_text(self.p, self.actors[name], d.id, text_id, based_on, drafts),
        )
        if expected is None and model is not None:
            number = model.version + 1
            old = model.versions[model.version]
            model.versions[number] = [(old[0][0], number), old[1]]
            self.same(
                f"version {number}",
                (found, self._clauses(d, text_id, name)),
                (number, model.versions[number]),
            )
            self.record(d, ("text.revised", "all", name))

    def do_respond(self, d: Any, name: str, key: str, text_id: str, data: st.DataObject) -> None:
        model = self.texts.get(key, {}).get(text_id)
        seat = d.seats.get(name)
        ours = model is not None and key == d.key
        member = seat is not None and seat.role == MEMBER
        expected = None if member and ours else NotFound
        clauses = model.versions[model.version] if model else [("no-such-clause", 1)]
        given = []
        for clause_id, revision in clauses:
            answer = data.draw(st.sampled_from(ANSWERS), label="answer")
            wording = self.unique("CANARY wording") if answer == "bracket" else ""
            given.append((clause_id, revision, answer, wording, self.unique("CANARY comment")))
        version = model.version if model else 1
        self.attempt(
            f"{name} responds to {text_id} in {d.key}",
            expected,
            lambda: texts.respond(
                self.p,
                self.actors[name],
                d.id,
                text_id,
                version,
                [(c, a, w, m) for c, _, a, w, m in given],
            ),
        )
        if expected is None and model is not None:
            for clause_id, revision, answer, wording, comment in given:
                model.responses[(seat.delegation, clause_id, revision)] = (answer, wording, comment)
            self.record(d, ("text.responded", seat.delegation, name))

    def _release_expected(
        self, d: Any, name: str, model: TextModel | None, side: str, version: int, audience: str
    ) -> type[BackchannelError] | None:
        own = {x.id: x for x in d.delegations}
        if not d.is_facilitator(name) or model is None or side not in own:
            return NotFound
        if audience != OBSERVERS:
            if audience not in own:
                return NotFound
            if own[audience].absent or audience == side:
                return InputError
        if own[side].absent:
            return InputError
        if version not in model.versions:
            return NotFound
        if any(r[:3] == (side, version, audience) for r in model.releases):
            return NotAllowedNow
        if not self._snapshot(model, side, version):
            return NotAllowedNow
        return None

    @staticmethod
    def _snapshot(
        model: TextModel, side: str, version: int
    ) -> dict[tuple[str, int], tuple[str, str]]:
        return {
            (c, r): model.responses[(side, c, r)][:2]
            for c, r in model.versions[version]
            if (side, c, r) in model.responses
        }

    def do_release_text(
        self, d: Any, name: str, key: str, text_id: str, side: str, version: int, audience: str
    ) -> None:
        model = self.texts.get(key, {}).get(text_id) if key == d.key else None
        expected = self._release_expected(d, name, model, side, version, audience)
        self.attempt(
            f"{name} releases {side}'s responses to {text_id} v{version} to {audience} in {d.key}",
            expected,
            lambda: text_views.release(
                self.p, self.actors[name], d.id, text_id, side, version, audience
            ),
        )
        if expected is None and model is not None:
            model.releases.append((side, version, audience, self._snapshot(model, side, version)))
            self.record(d, ("text.released", audience, name))

    # ---------------------------------------------------------- rules
    @rule(data=st.data(), action=st.sampled_from(["create", "revise", "respond", "release"]))
    def text_write(self, data: st.DataObject, action: str) -> None:
        d = self.pick_dialogue(data, blind=False)  # texts are the same in a blind dialogue
        name = self.pick_actor(data, d)
        key, text_id = data.draw(st.sampled_from(self.every_text()), label="text")
        if action == "create":
            self.do_create_text(d, name)
        elif action == "revise":
            self.do_revise_text(d, name, key, text_id)
        elif action == "respond":
            seated = sorted(n for n, s in d.seats.items() if s.role == MEMBER)
            if seated and data.draw(st.booleans(), label="a member"):
                name = data.draw(st.sampled_from(seated), label="member")
            self.do_respond(d, name, key, text_id, data)
        else:
            sides = [x.id for x in d.delegations] + ["no-such-side-" + "y" * 9]
            side = data.draw(st.sampled_from(sides), label="side")
            audience = data.draw(st.sampled_from([OBSERVERS, *sides]), label="audience")
            version = data.draw(st.integers(1, 3), label="version")
            self.do_release_text(d, name, key, text_id, side, version, audience)

    # ---------------------------------------------------------- checks
    def expected_answers(self, d: Any, model: TextModel, name: str) -> dict[str, dict[str, Any]]:
        seat = d.seats[name]
        at_table = [x.id for x in d.delegations if not x.absent]
        seen: dict[Key, tuple[str, str, str | None, bool]] = {}
        for side, _, audience, snapshot in model.releases:
            if (
                seat.role == FACILITATOR
                or (seat.role == MEMBER and audience == seat.delegation)
                or (seat.role == OBSERVER and audience == OBSERVERS)
            ):
                for (c, r), (answer, wording) in snapshot.items():
                    seen[(side, c, r)] = (answer, wording, None, True)
        for (side, c, r), (answer, wording, comment) in model.responses.items():
            if seat.role == FACILITATOR or (seat.role == MEMBER and side == seat.delegation):
                seen[(side, c, r)] = (answer, wording, comment, False)
        return {
            c: {s: seen[(s, c, r)] for s in at_table if (s, c, r) in seen}
            for c, r in model.versions[model.version]
        }

    def check_texts(self, d: Any, name: str) -> None:
        actor, seat, who = self.actors[name], d.seats.get(name), f"{name} in {d.key}"
        for key, text_id in self.every_text():
            model = self.texts.get(key, {}).get(text_id) if key == d.key else None
            expected = NotFound if seat is None or model is None else None
            view = self.attempt(
                f"{who}: text {text_id}",
                expected,
                lambda text_id=text_id: text_views.text_view(self.p, actor, d.id, text_id),
            )
            self.attempt(
                f"{who}: diff of {text_id}",
                expected,
                lambda text_id=text_id: text_views.compare(self.p, actor, d.id, text_id, 1, 1),
            )
            if expected is None and model is not None:
                got = {
                    c.clause.id: {
                        s: (a.answer.value, a.wording, a.comment, a.released)
                        for s, a in c.answers.items()
                    }
                    for c in view.clauses
                }
                self.same(
                    f"{who}: answers to {text_id}", got, self.expected_answers(d, model, name)
                )
            member = seat is not None and seat.role == MEMBER
            if not member:
                self.attempt(
                    f"{who}: respond to {text_id}",
                    NotFound,
                    lambda text_id=text_id: texts.respond(self.p, actor, d.id, text_id, 1, []),
                )
            if not d.is_facilitator(name):
                self.attempt(
                    f"{who}: revise {text_id}",
                    NotFound,
                    lambda text_id=text_id: texts.revise_text(
                        self.p, actor, d.id, text_id, 1, [Draft(body="probe")]
                    ),
                )
                side = d.delegations[0].id if d.delegations else "none"
                self.attempt(
                    f"{who}: release in {text_id}",
                    NotFound,
                    lambda text_id=text_id, side=side: text_views.release(
                        self.p, actor, d.id, text_id, side, 1, OBSERVERS
                    ),
                )
        if seat is not None:
            listed = sorted(t.id for t in text_views.texts(self.p, actor, d.id))
            self.same(f"{who}: texts", listed, sorted(self.texts.get(d.key, {})))
        if not d.is_facilitator(name):
            self.attempt(
                f"{who}: draft a text",
                NotFound,
                lambda: texts.create_text(self.p, actor, d.id, "probe", [Draft(body="probe")]),
            )
