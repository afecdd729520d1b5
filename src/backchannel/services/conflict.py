"""Use-cases of the GMCR conflict engine, shared by the CLI and (later) the web.

Each function takes a conflict file path and plain options, loads and compiles the
conflict (:func:`load_conflict`), runs the stability
engine and returns typed results plus JSON-ready documents. States are written as Y/N
strings in the file's option order; the file's ``state_names`` are passed on to the
reports and pictures that show them. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchannel.conflict import (
    CONCEPTS,
    DEFAULT_CONCEPTS,
    analyze,
    analyze_uncertain,
    explain,
    status_quo_paths,
)
from backchannel.conflict.bitmaps import analysis_bitmaps
from backchannel.conflict.compile import compile_conflict, enumerate_feasible, state_names
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.decompile import conflict_to_model, preference_rankings
from backchannel.conflict.graph import render_svg
from backchannel.conflict.reports import (
    Explanation,
    PathsReport,
    StabilityReport,
    UncertaintyReport,
)
from backchannel.conflict.state_text import StateList, state_strings
from backchannel.errors import InputError
from backchannel.formats.bitmap import write_bitmaps
from backchannel.formats.conflicts import conflict_kind, read_conflict, write_conflict
from backchannel.formats.dispatch import FileKind, kind_of
from backchannel.formats.files import write_atomically
from backchannel.model.conflict import ConflictFile


@dataclass(frozen=True)
class Analysis:
    """A stability analysis of a file, with its preference-uncertainty readings and the
    file's names of states (state index to name)."""

    conflict: CompiledConflict
    report: StabilityReport
    uncertainty: UncertaintyReport | None
    state_names: dict[int, str] = field(default_factory=dict)


def parse_concepts(text: str | None) -> tuple[str, ...]:
    """Concept names from a comma-separated list (``None``: the default concepts).

    Raises
    ------
    InputError
        For an unknown name or an empty list.
    """
    if text is None:
        return DEFAULT_CONCEPTS
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    if not names:
        raise InputError("--concepts names no solution concept")
    for name in names:
        if name not in CONCEPTS:
            raise InputError(
                f"unknown solution concept {name!r}; choose from {', '.join(CONCEPTS)}"
            )
    return names


def _enumerator(n_options: int, cubes: Sequence[tuple[int, int]]) -> list[int]:
    return [int(code) for code in enumerate_feasible(n_options, cubes)]


def load_conflict_model(path: Path) -> ConflictFile:
    """Read a conflict file (``.yaml``, ``.yml``, ``.json`` or GMCR+ ``.gmcr``).

    Raises
    ------
    CaseFileError, CaseFileErrors
        Located problems in the file.
    """
    return read_conflict(path, enumerate_states=_enumerator)


def load_conflict(path: Path) -> CompiledConflict:
    """Load and compile a conflict file, its format given by its suffix.

    Raises
    ------
    CaseFileError, CaseFileErrors
        Located problems in the file.
    """
    return compile_conflict(load_conflict_model(path), str(path))


def save_conflict(
    conflict: CompiledConflict | ConflictFile,
    path: Path,
    *,
    source: str = "(conflict)",
    replace: bool = False,
) -> None:
    """Write a conflict as ``.yaml``/``.yml``/``.json`` or GMCR+ ``.gmcr``.

    A :class:`ConflictFile` keeps its statements (``.gmcr`` statements are written as
    GMCR+ conditions; rankings as ``preferenceRanking`` when any decision maker uses
    one); it is first checked and compiled as :func:`load_conflict` does, so a file
    with errors is never written. A :class:`CompiledConflict` is written with explicit
    rankings. The file is written atomically: on any error it is left as it was; an
    existing file is replaced only with ``replace``.

    Parameters
    ----------
    conflict:
        What to write.
    path:
        The file to write; its suffix gives the format.
    source:
        Where a :class:`ConflictFile` was read from, named in its errors.
    replace:
        Whether an existing file at ``path`` may be replaced.

    Raises
    ------
    CaseFileError, CaseFileErrors
        For an unknown suffix, a problem in the conflict file (located in ``source``)
        or a statement too large for ``.gmcr``.
    InputError
        When the file exists and may not be replaced, or cannot be written.
    AnalysisError
        When a compiled conflict cannot be expressed in the target format.
    """
    kind = conflict_kind(path)
    if isinstance(conflict, CompiledConflict):
        model, compiled = conflict_to_model(conflict), conflict
    else:
        model, compiled = conflict, compile_conflict(conflict, source)
    uses_ranking = any(spec.ranking is not None for spec in model.preferences.values())
    rankings = preference_rankings(compiled) if kind is FileKind.GMCR and uses_ranking else None
    write_conflict(model, path, rankings=rankings, source=source, replace=replace)


def _load_named(path: Path) -> tuple[CompiledConflict, dict[int, str]]:
    """Load and compile a conflict file; also its ``state_names`` by state index."""
    model = load_conflict_model(path)
    conflict = compile_conflict(model, str(path))
    return conflict, state_names(model, conflict)


def _has_uncertainty(conflict: CompiledConflict) -> bool:
    return any(pairs is not None and len(pairs) > 0 for pairs in conflict.unranked)


def analyze_file(
    path: Path, concepts: Sequence[str] = DEFAULT_CONCEPTS, *, horizon: int = 2
) -> Analysis:
    """Load a conflict file and analyse it under ``concepts``."""
    if horizon < 1:
        raise InputError(f"--horizon must be at least 1, not {horizon}")
    conflict, names = _load_named(path)
    report = analyze(conflict, concepts, horizon=horizon)
    uncertain = None
    if _has_uncertainty(conflict):
        uncertain = analyze_uncertain(conflict, concepts, horizon=horizon)
    return Analysis(conflict, report, uncertain, names)


def _stability_doc(report: StabilityReport) -> dict[str, Any]:
    conflict = report.conflict
    return {
        "stable": {
            concept: {
                mover: StateList(conflict, report.stable[concept][i])
                for i, mover in enumerate(report.movers)
            }
            for concept in report.concepts
        },
        "equilibria": {
            concept: StateList(conflict, report.equilibria[concept]) for concept in report.concepts
        },
    }


def analysis_doc(analysis: Analysis) -> dict[str, Any]:
    """The ``conflict analyze --json`` document.

    Its lists of states are :class:`~backchannel.conflict.state_text.StateList` values,
    turned into text only as the document is printed, block by block
    (:func:`backchannel.formats.json_stream.write_json`).
    """
    conflict, report = analysis.conflict, analysis.report
    doc: dict[str, Any] = {
        "options": list(conflict.option_ids),
        "states": StateList.every(conflict),
        **_stability_doc(report),
        "movers": list(report.movers),
        "status_quo": None
        if conflict.status_quo is None
        else conflict.state_string(conflict.status_quo),
        "state_names": {
            conflict.state_string(index): name
            for index, name in sorted(analysis.state_names.items())
        },
    }
    if report.concepts and "limited" in report.concepts:
        doc["horizon"] = report.horizon
    if analysis.uncertainty is not None:
        doc["uncertainty"] = {
            "robust": _stability_doc(analysis.uncertainty.robust),
            "possible": _stability_doc(analysis.uncertainty.possible),
        }
    return doc


def write_analysis_bitmaps(analysis: Analysis, path: Path, *, replace: bool = False) -> int:
    """Write an analysis as the bitmap container (``docs/reference/bitmap.md``); return
    the number of bytes written.

    Raises
    ------
    CaseFileError
        ``path`` does not end in ``.npz``.
    InputError
        The file exists and may not be replaced, or cannot be written.
    """
    arrays = analysis_bitmaps(
        analysis.conflict, analysis.report, analysis.uncertainty, analysis.state_names
    )
    return write_bitmaps(path, arrays, replace=replace)


def _state_index(conflict: CompiledConflict, text: str) -> int:
    width = len(conflict.option_ids)
    clean = text.strip().upper()
    if len(clean) != width or set(clean) - {"Y", "N"}:
        raise InputError(
            f"state {text!r} must be {width} letters Y/N, one per option "
            f"({', '.join(conflict.option_ids)})"
        )
    index = conflict.state_index(clean)
    if index is None:
        raise InputError(f"state {clean} is not feasible in this conflict")
    return index


def explain_file(
    path: Path, dm: str, state: str, concept: str = "gmr", *, horizon: int = 2
) -> tuple[CompiledConflict, Explanation]:
    """Explain why ``state`` is (un)stable for ``dm`` under ``concept``."""
    conflict = load_conflict(path)
    index = _state_index(conflict, state)
    return conflict, explain(conflict, dm, index, concept.strip().lower(), horizon=horizon)


def explanation_doc(conflict: CompiledConflict, explanation: Explanation) -> dict[str, Any]:
    """The ``conflict explain --json`` document."""
    responses = []
    for response in explanation.responses:
        sanction = response.sanction
        entry: dict[str, Any] = {
            "target": conflict.state_string(response.target),
            "deterred": response.deterred,
            "sanction": None,
        }
        if sanction is not None:
            entry["sanction"] = {
                "states": state_strings(conflict, sanction.states),
                "actors": list(sanction.actors),
                "simultaneous": sanction.simultaneous,
                "payoffs": [
                    dict(zip(conflict.dm_ids, row, strict=True)) for row in sanction.payoffs
                ],
                "countermove": None
                if sanction.countermove is None
                else conflict.state_string(sanction.countermove),
            }
        responses.append(entry)
    return {
        "dm": explanation.mover,
        "state": conflict.state_string(explanation.state),
        "concept": explanation.concept,
        "stable": explanation.stable,
        "improvements": responses,
    }


def paths_file(
    path: Path, concepts: Sequence[str] = ("nash", "gmr", "smr", "seq")
) -> tuple[CompiledConflict, PathsReport]:
    """Shortest paths from the file's status quo to the equilibria of ``concepts``."""
    conflict = load_conflict(path)
    return conflict, status_quo_paths(conflict, concepts)


def paths_doc(conflict: CompiledConflict, report: PathsReport) -> dict[str, Any]:
    """The ``conflict paths --json`` document."""

    def steps(found: tuple[tuple[str, int, int], ...] | None) -> list[dict[str, str]] | None:
        if found is None:
            return None
        return [
            {"mover": who, "from": conflict.state_string(a), "to": conflict.state_string(b)}
            for who, a, b in found
        ]

    return {
        "status_quo": conflict.state_string(report.status_quo),
        "concepts": list(report.concepts),
        "reachable": {
            "by_improvements": report.reachable_by_improvements,
            "by_moves": report.reachable_by_moves,
        },
        "paths": [
            {
                "target": conflict.state_string(item.target),
                "by_improvements": steps(item.by_improvements),
                "by_moves": steps(item.by_moves),
            }
            for item in report.paths
        ],
    }


def graph_file(path: Path, out: Path, concept: str = "gmr", *, replace: bool = False) -> int:
    """Draw the state graph with the equilibria of ``concept``; return the count drawn.

    An existing ``out`` is replaced only with ``replace``.
    """
    kind_of(out, (FileKind.SVG,))
    conflict, names = _load_named(path)
    report = analyze(conflict, parse_concepts(concept))
    equilibria = [int(s) for s in report.equilibria[report.concepts[0]]]
    svg = render_svg(
        conflict, equilibria=equilibria, status_quo=conflict.status_quo, state_names=names
    )
    write_atomically(out, svg, replace=replace)
    return len(equilibria)


def convert_file(source: Path, target: Path, *, replace: bool = False) -> None:
    """Convert between YAML/JSON and GMCR+ ``.gmcr`` files (by suffix).

    The source is checked and compiled as for an analysis first, so its errors are
    reported (located in ``source``) and nothing is written; the target is written
    atomically, and an existing one is replaced only with ``replace``.
    """
    if source.resolve() == target.resolve():
        raise InputError("the output file must differ from the input file")
    save_conflict(load_conflict_model(source), target, source=str(source), replace=replace)
