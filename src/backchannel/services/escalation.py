"""The escalation watch: the facilitator's GMCR model of what happens if talks fail.

* One model per dialogue, a conflict file (:class:`~backchannel.model.conflict.ConflictFile`)
  sealed like a position (``escalation_models.body_ct``); every save is logged, for the
  facilitator's eyes only. Only the facilitator reads or writes it: anyone else gets
  NotFound, as for a model that does not exist.
* It is built on the page, or imported from a conflict file (YAML, JSON) or a GMCR+
  ``.gmcr`` file; either way it is checked and compiled as ``backchannel conflict`` does
  (located errors), and refused above :data:`MAX_STATES` feasible states (the CLI
  analyses larger ones).
* The analysis is the conflict engine's (:mod:`backchannel.conflict`): stable states and
  equilibria per solution concept, paths from the status quo, explanations, the state
  graph, and a what-if (options switched off or made irreversible) beside the model.
* A finding of the model ("S is an equilibrium under SEQ", "the path from the status quo
  to S") is released to one delegation through the release machinery
  (:func:`backchannel.services.releases.deliver`), like a finding of an evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import PurePath
from typing import Any

from backchannel.conflict import (
    DEFAULT_CONCEPTS,
    analyze,
    explain,
    mover_names,
    status_quo_paths,
)
from backchannel.conflict.compile import compile_conflict, enumerate_feasible, state_names
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.decompile import preference_rankings
from backchannel.conflict.graph import render_svg
from backchannel.conflict.movers import mover_groups
from backchannel.conflict.reports import Explanation, PathsReport, StabilityReport
from backchannel.conflict.whatif import made_irreversible, without_options
from backchannel.errors import (
    AnalysisError,
    CaseFileError,
    FieldError,
    InputError,
    NotAllowedNow,
    listing,
)
from backchannel.formats.conflict_file import conflict_from_data, read_conflict_text
from backchannel.formats.files import decode_text
from backchannel.formats.gmcr import read_gmcr_text
from backchannel.messages import Render, t_
from backchannel.model.conflict import ConflictFile
from backchannel.model.conflict.checks import check_conflict
from backchannel.model.disclosure import (
    CONCEPT_NAMES,
    EscalationStep,
    Kind,
    escalation_disclosed,
)
from backchannel.services import access, releases
from backchannel.services.access import Actor
from backchannel.services.dialogues import current_round
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.escalation import model_of
from backchannel.storage.tables import DelegationRow, EscalationModelRow, utcnow

MAX_STATES = 1024
"""The most feasible states a model analysed by the web may have (10 free options): the
slowest concepts (SIM, SEQ&SIM) list every move, about 0.1 s at this size and 2.5 s at
four times as many."""
MAX_UPLOAD_BYTES = 500_000
"""The largest conflict file that may be imported (below the server's limit of a request,
so that the page can say so beside the form)."""
SOURCE = "escalation model"
"""How errors name the model built on the page."""
CONCEPTS = DEFAULT_CONCEPTS
"""The solution concepts the watch analyses: Nash, GMR, SMR, SEQ, SIM and SEQ&SIM."""
SUFFIXES = (".yaml", ".yml", ".json", ".gmcr")
LIMITED = "limited"
"""Limited-move stability ``L_h``: analysed beside :data:`CONCEPTS` when the model has two
movers (decision makers or coalitions), at the horizon the page asks for."""
HORIZON = 2
"""The horizon of limited-move stability when none is asked for."""
MAX_HORIZON = 12
"""The longest horizon the page analyses."""


@dataclass(frozen=True)
class StoredModel:
    """The dialogue's escalation model as saved."""

    revision: int
    updated_at: datetime
    model: ConflictFile


@dataclass(frozen=True)
class WhatIf:
    """Options switched off (never taken) and options made irreversible."""

    off: tuple[str, ...] = ()
    irreversible: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.off or self.irreversible)


@dataclass(frozen=True)
class Watch:
    """A model's analysis: the engine's reports and what the page names states by."""

    model: ConflictFile
    conflict: CompiledConflict
    report: StabilityReport
    paths: PathsReport | None
    names: dict[int, str]
    rankings: list[list[list[str]]] = field(default_factory=list)
    """Per decision maker: tie groups of Y/N strings, most preferred first."""
    lost_status_quo: bool = False
    """A what-if whose switched-off option the status quo takes (it has none then)."""
    horizon: int | None = None
    """The horizon of limited-move stability (None: not analysed, not two movers)."""


# ---------------------------------------------------------------- checking a model
def model_from_data(data: dict[str, Any]) -> ConflictFile:
    """A conflict file model from plain data (the page's form), with located errors.

    Raises
    ------
    CaseFileError, CaseFileErrors
        What the data gets wrong, by place (``decision_makers[1].id``).
    """
    return conflict_from_data(data, SOURCE)


def _too_large() -> InputError:
    return InputError(
        t_(
            "the model has more than {limit} feasible states, the most the page analyses",
            limit=MAX_STATES,
        ),
        hint=t_(
            "mark more combinations infeasible or use fewer options; a larger model is "
            "analysed from a file with `backchannel conflict analyze FILE`"
        ),
    )


def check_model(model: ConflictFile) -> CompiledConflict:
    """Check and compile a model as the CLI does, refusing more than :data:`MAX_STATES`.

    Raises
    ------
    CaseFileError, CaseFileErrors
        Located problems of the model.
    InputError
        Too many feasible states (the message gives the count and the limit).
    """
    checked = check_conflict(model, SOURCE)
    cubes = [(cube.mask, cube.value) for cube in checked.infeasible]
    try:
        enumerate_feasible(len(checked.option_ids), cubes, max_states=MAX_STATES)
    except AnalysisError:
        raise _too_large() from None
    return compile_conflict(model, SOURCE, max_states=MAX_STATES)


def read_upload(filename: str, data: bytes) -> ConflictFile:
    """The model in an uploaded conflict file (``.yaml``, ``.yml``, ``.json``, ``.gmcr``).

    Read from memory (never written to disk), named in errors by the file's own name.

    Raises
    ------
    InputError
        Another kind of file, too large, empty, or problems in it (located by line).
    """
    name = PurePath(filename.replace("\\", "/")).name or "upload"
    if not name.lower().endswith(SUFFIXES):
        raise InputError(
            t_("{name} is not a conflict file", name=repr(name)),
            hint=t_("upload a .yaml, .yml or .json conflict file or a GMCR+ .gmcr file"),
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            t_(
                "{name} is larger than {limit} bytes",
                name=repr(name),
                limit=f"{MAX_UPLOAD_BYTES:,}",
            ),
            hint=t_("upload a smaller conflict file"),
        )
    if not data.strip():
        raise InputError(t_("{name} is empty", name=repr(name)), hint=t_("choose the file again"))
    text = decode_text(data, name)
    lower = name.lower()
    if lower.endswith(".gmcr"):
        try:
            return read_gmcr_text(text, name, _feasible)
        except AnalysisError as exc:
            raise CaseFileError(name, ("infeasibles",), exc.text) from None
    return read_conflict_text(text, name, "json" if lower.endswith(".json") else "yaml")


def _feasible(n_options: int, cubes: Sequence[tuple[int, int]]) -> list[int]:
    try:
        return [int(c) for c in enumerate_feasible(n_options, cubes, max_states=MAX_STATES)]
    except AnalysisError:
        raise _too_large() from None


# ---------------------------------------------------------------- storage
def _open(platform: Platform, s: Any, row: EscalationModelRow) -> StoredModel:
    keys = platform.keys(s, row.dialogue_id)
    body = keys.open("escalation_models", "body", row.id, row.body_ct)
    return StoredModel(row.revision, row.updated_at, ConflictFile.model_validate(body))


def read_model(platform: Platform, actor: Actor, dialogue_id: str) -> StoredModel | None:
    """The dialogue's escalation model (None before the first save); facilitator only."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        row = model_of(s, dialogue_id)
        return None if row is None else _open(platform, s, row)


def save_model(
    platform: Platform, actor: Actor, dialogue_id: str, model: ConflictFile
) -> StoredModel:
    """Check the model (:func:`check_model`) and seal it as the dialogue's; log the save.

    Nothing is stored when the model has a problem.
    """
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)  # nobody else's model is even checked
    check_model(model)
    body = model.model_dump(mode="json", exclude_none=True)
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        row = model_of(s, dialogue_id)
        if row is None:
            row = EscalationModelRow(dialogue_id=dialogue_id, revision=1, body_ct=b"")
            repo.add(s, row)
        else:
            row.revision += 1
            row.updated_at = utcnow()
        keys = platform.keys(s, dialogue_id)
        row.body_ct = keys.seal("escalation_models", "body", row.id, body)
        platform.log(
            s,
            "escalation.saved",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience="facilitator",
            detail={"revision": row.revision},
        )
        return StoredModel(row.revision, row.updated_at, model)


def import_model(
    platform: Platform, actor: Actor, dialogue_id: str, filename: str, data: bytes
) -> StoredModel:
    """Replace the dialogue's model by the one in an uploaded file (:func:`read_upload`)."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)  # nobody else's upload is even read
    return save_model(platform, actor, dialogue_id, read_upload(filename, data))


def _stored(platform: Platform, actor: Actor, dialogue_id: str) -> StoredModel:
    found = read_model(platform, actor, dialogue_id)
    if found is None:
        raise NotAllowedNow(
            t_("there is no escalation model yet"),
            hint=t_("build one on the escalation page, or import a conflict file"),
        )
    return found


# ---------------------------------------------------------------- analysis
def state_text(conflict: CompiledConflict, code: int) -> str:
    """The Y/N string of a state code."""
    return "".join("Y" if code >> j & 1 else "N" for j in range(len(conflict.option_ids)))


def _vary(conflict: CompiledConflict, whatif: WhatIf) -> CompiledConflict:
    for field_name, names in (("off", whatif.off), ("irreversible", whatif.irreversible)):
        unknown = [o for o in names if o not in conflict.option_ids]
        if unknown:
            raise FieldError(
                field_name,
                t_("unknown option {option}", option=repr(unknown[0])),
                hint=t_("the options are: {options}", options=listing(conflict.option_ids)),
            )
    varied = conflict
    if whatif.off:
        try:
            varied = without_options(varied, whatif.off)
        except AnalysisError:
            raise FieldError(
                "off",
                t_("with {options} switched off no state is left", options=listing(whatif.off)),
                hint=t_("switch fewer options off"),
            ) from None
    if whatif.irreversible:
        varied = made_irreversible(varied, whatif.irreversible)
    return varied


def horizon_of(text: object) -> int:
    """The horizon asked for (nothing asked: :data:`HORIZON`).

    Raises
    ------
    FieldError
        Not a whole number from 1 to :data:`MAX_HORIZON`.
    """
    given = str(text or "").strip()
    if not given:
        return HORIZON
    if not given.isdigit() or not 1 <= int(given) <= MAX_HORIZON:
        raise FieldError(
            "horizon",
            t_("the horizon {value} is not a number of moves", value=repr(given[:20])),
            hint=t_("give a whole number from 1 to {most}", most=MAX_HORIZON),
        )
    return int(given)


def analyse(conflict: CompiledConflict, model: ConflictFile, horizon: int = HORIZON) -> Watch:
    """The engine's analysis of a compiled model under :data:`CONCEPTS`, and limited-move
    stability at ``horizon`` when the model has two movers.

    Raises
    ------
    AnalysisError
        What the engine refuses (e.g. too many moves to list).
    """
    two = len(mover_groups(conflict)) == 2
    report = analyze(conflict, (*CONCEPTS, LIMITED) if two else CONCEPTS, horizon=horizon)
    paths = None
    if conflict.status_quo is not None:
        paths = status_quo_paths(conflict, CONCEPTS)
    rankings = [
        [[state_text(conflict, code) for code in group] for group in ranking]
        for ranking in preference_rankings(conflict)
    ]
    names = state_names(model, conflict)
    return Watch(model, conflict, report, paths, names, rankings, horizon=horizon if two else None)


def watch(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    whatif: WhatIf | None = None,
    horizon: int = HORIZON,
) -> tuple[StoredModel, Watch, Watch | None]:
    """The saved model, its analysis, and the what-if's analysis (when one is asked);
    limited-move stability at ``horizon`` (see :func:`horizon_of`)."""
    stored = _stored(platform, actor, dialogue_id)
    conflict = check_model(stored.model)
    before = analyse(conflict, stored.model, horizon)
    after = None
    if whatif:
        varied = _vary(conflict, whatif)
        after = analyse(varied, stored.model, horizon)
        if conflict.status_quo is not None and varied.status_quo is None:
            after = replace(after, lost_status_quo=True)
    return stored, before, after


def _state(conflict: CompiledConflict, text: str, field_name: str = "state") -> int:
    clean = text.strip().upper()
    width = len(conflict.option_ids)
    if len(clean) != width or set(clean) - {"Y", "N"}:
        raise FieldError(
            field_name,
            t_(
                "a state is {width} letters Y or N, one per option ({options})",
                width=width,
                options=listing(conflict.option_ids),
            ),
        )
    index = conflict.state_index(clean)
    if index is None:
        raise FieldError(field_name, t_("the state {state} is infeasible", state=clean))
    return index


def _concept(name: str) -> str:
    clean = name.strip().lower()
    if clean not in CONCEPTS:
        raise FieldError(
            "concept",
            t_("unknown solution concept {concept}", concept=repr(name)),
            hint=t_("choose one of: {choices}", choices=", ".join(CONCEPTS)),
        )
    return clean


def explain_state(
    platform: Platform, actor: Actor, dialogue_id: str, dm: str, state: str, concept: str
) -> tuple[CompiledConflict, dict[int, str], Explanation]:
    """Why ``state`` is (or is not) stable for ``dm`` under ``concept``: each improvement
    from it and the sanction that deters it (with the model's names of states)."""
    stored = _stored(platform, actor, dialogue_id)
    conflict = check_model(stored.model)
    index = _state(conflict, state)
    chosen = _concept(concept)
    movers = mover_names(conflict)  # a coalition moves as one: "A+B"
    if dm not in conflict.dm_ids and dm not in movers:
        raise FieldError(
            "dm",
            t_("unknown decision maker {dm}", dm=repr(dm)),
            hint=t_("choose one of: {choices}", choices=listing(movers)),
        )
    names = state_names(stored.model, conflict)
    return conflict, names, explain(conflict, dm, index, chosen)


def graph(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    concept: str = "seq",
    render: Render | None = None,
) -> str:
    """The state graph as the CLI draws it (``conflict graph``), the equilibria of
    ``concept`` outlined: a standalone SVG document."""
    stored = _stored(platform, actor, dialogue_id)
    conflict = check_model(stored.model)
    chosen = _concept(concept)
    report = analyze(conflict, (chosen,))
    return render_svg(
        conflict,
        equilibria=[int(s) for s in report.equilibria[chosen]],
        state_names=state_names(stored.model, conflict),
        render=render,
    )


def export(platform: Platform, actor: Actor, dialogue_id: str) -> str:
    """The saved model as a JSON conflict file (for ``backchannel conflict``)."""
    stored = _stored(platform, actor, dialogue_id)
    body = stored.model.model_dump(mode="json", exclude_none=True)
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------- releases
def _described(model: ConflictFile, conflict: CompiledConflict, index: int) -> dict[str, list[str]]:
    """Per decision maker (its name), the options (their names) taken in a state."""
    code = int(conflict.states[index])
    names = {o.id: o.name or o.id for o in model.options or ()}
    order = list(conflict.option_ids)
    out: dict[str, list[str]] = {}
    for dm in model.decision_makers:
        taken = [names.get(o, o) for o in dm.options if code >> order.index(o) & 1]
        out[dm.name or dm.id] = taken
    return out


def _released_concept(conflict: CompiledConflict, name: str, kind: Kind | None) -> str:
    """The concept a finding is released under: one of :data:`CONCEPTS`, or
    :data:`LIMITED` for an equilibrium of a model with two movers."""
    if name.strip().lower() != LIMITED:
        return _concept(name)
    if len(mover_groups(conflict)) != 2:
        raise FieldError(
            "concept",
            t_("limited-move stability is analysed only when two sides move"),
            hint=t_("choose one of: {choices}", choices=", ".join(CONCEPTS)),
        )
    if kind is Kind.PATH:
        raise FieldError(
            "kind",
            t_("paths from the status quo are traced for {choices}", choices=", ".join(CONCEPTS)),
            hint=t_("release the equilibrium alone, or choose another concept"),
        )
    return LIMITED


def release(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    audience: str,
    kind: str,
    concept: str,
    state: str,
    horizon: int | str | None = None,
) -> str:
    """Release one finding of the model to one delegation at the table; the release's id.

    ``equilibrium``: "state S is an equilibrium under the concept"; ``path``: "from the
    status quo, the path to S is …" (S must be an equilibrium of the concept). Under
    limited-move stability (``limited``, two movers only, equilibria only) the finding
    names its ``horizon`` (see :func:`horizon_of`).
    """
    try:
        chosen_kind = Kind(kind)
    except ValueError:
        chosen_kind = None
    if chosen_kind not in (Kind.EQUILIBRIUM, Kind.PATH):
        raise FieldError(
            "kind",
            t_("unknown escalation finding {kind}", kind=repr(kind)),
            hint=t_("choose equilibrium or path"),
        )
    with platform.view() as s:
        place = access.facilitator(s, actor, dialogue_id)
        if audience != releases.OBSERVERS:
            target = access.owned(s, place, DelegationRow, audience)
            if target.role != "delegation":
                raise FieldError(
                    "audience",
                    t_("escalation findings go to a delegation at the table or to the observers"),
                )
        current_round(s, dialogue_id)
    stored = _stored(platform, actor, dialogue_id)
    conflict = check_model(stored.model)
    chosen = _released_concept(conflict, concept, chosen_kind)
    moves = horizon_of(horizon)
    index = _state(conflict, state)
    report = analyze(conflict, (chosen,), horizon=moves)
    if not report.is_equilibrium(chosen, index):
        raise FieldError(
            "state",
            t_(
                "{state} is not an equilibrium under {concept}",
                state=conflict.state_string(index),
                concept=f"L{moves}" if chosen == LIMITED else chosen.upper(),
            ),
            hint=t_("release a state the analysis lists as an equilibrium"),
        )
    steps: list[EscalationStep] | None = None
    if chosen_kind is Kind.PATH:
        if conflict.status_quo is None:
            raise FieldError("kind", t_("the model has no status quo to trace a path from"))
        found = status_quo_paths(conflict, (chosen,))
        path = next(p for p in found.paths if p.target == index)
        if path.by_moves is None:
            raise FieldError(
                "state",
                t_("{state} cannot be reached from the status quo", state=state.upper()),
            )
        called = {dm.id: dm.name or dm.id for dm in stored.model.decision_makers}
        steps = [
            EscalationStep(
                mover=" + ".join(called.get(who, who) for who in mover.split("+")),
                state=conflict.state_string(to),
                taken=_described(stored.model, conflict, to),
            )
            for mover, _, to in (path.by_improvements or path.by_moves)
        ]
    names = state_names(stored.model, conflict)
    record = escalation_disclosed(
        chosen_kind,
        concept=chosen,
        concept_name=str(CONCEPT_NAMES[chosen]),
        state=conflict.state_string(index),
        state_name=names.get(index),
        taken=_described(stored.model, conflict, index),
        steps=steps,
        horizon=moves if chosen == LIMITED else None,
    )
    return releases.deliver(platform, actor, dialogue_id, audience, record)
