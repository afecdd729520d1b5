"""Use-cases of the negotiation engine, shared by the CLI and (later) the web.

Each function takes a path (a case file or a Genius/GeniusWeb domain folder) and
plain options, loads and compiles the case, runs the engine and returns typed
results. Nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.errors import InputError, listing
from backchannel.formats.cases import load_problem, save_case
from backchannel.formats.files import write_atomically
from backchannel.model.case import Case
from backchannel.model.problem import Problem
from backchannel.model.results import (
    ClashesResult,
    FrontierResult,
    MesoResult,
    Settlement,
    SettlementRule,
    ZoneResult,
)
from backchannel.solvers import engine
from backchannel.solvers.redline_map import IssueMap, redline_map

ALL_RULES = (
    SettlementRule.NASH,
    SettlementRule.KS,
    SettlementRule.EGALITARIAN,
    SettlementRule.WELFARE,
)


@dataclass(frozen=True)
class Loaded:
    """A case as read, and its compiled problem (possibly a sub-agenda)."""

    source: str
    case: Case
    problem: Problem


def load(path: Path, issues: Sequence[str] | None = None) -> Loaded:
    """Load and compile a case; restrict it to some issues for a partial deal."""
    case, problem = load_problem(path)
    if issues:
        names = [issue.name for issue in problem.issues]
        unknown = [name for name in issues if name not in names]
        if unknown:
            raise InputError(
                f"unknown issue{'s' if len(unknown) > 1 else ''}: {listing(unknown)}",
                hint=f"the issues are: {listing(names)}",
            )
        if not problem.is_additive:
            raise InputError(
                "partial deals need additive utilities; this case has non-linear ones",
                hint="run the analysis on the whole agenda",
            )
        problem = problem.restricted_to(list(dict.fromkeys(issues)))
    return Loaded(str(path), case, problem)


def _limit(time_limit: float) -> float:
    if time_limit <= 0:
        raise InputError(f"--time-limit must be positive, not {time_limit}")
    return time_limit


def check(
    path: Path, *, issues: Sequence[str] | None = None, time_limit: float = 60.0
) -> tuple[Loaded, ZoneResult, tuple[IssueMap, ...]]:
    """Is there a zone of possible agreement; which options are viable; the red-line map."""
    loaded = load(path, issues)
    zone = engine.check(loaded.problem, _limit(time_limit))
    return loaded, zone, redline_map(loaded.problem)


def clashes(
    path: Path,
    *,
    issues: Sequence[str] | None = None,
    limit: int = 10,
    time_limit: float = 60.0,
) -> tuple[Loaded, ClashesResult]:
    """Minimal clashing sets of red lines and the cheapest relaxations."""
    if limit < 1:
        raise InputError(f"--limit must be at least 1, not {limit}")
    loaded = load(path, issues)
    return loaded, engine.clashes(loaded.problem, limit=limit, time_limit=_limit(time_limit))


def settle(
    path: Path,
    *,
    rules: Sequence[SettlementRule] = ALL_RULES,
    issues: Sequence[str] | None = None,
    time_limit: float = 60.0,
) -> tuple[Loaded, dict[SettlementRule, Settlement]]:
    """The package each bargaining rule recommends."""
    loaded = load(path, issues)
    return loaded, engine.settle(loaded.problem, rules, _limit(time_limit))


def frontier(
    path: Path,
    *,
    issues: Sequence[str] | None = None,
    max_points: int = 30,
    target_gap: float | None = None,
    time_limit: float = 60.0,
) -> tuple[Loaded, FrontierResult]:
    """The Pareto frontier of admissible packages."""
    loaded = load(path, issues)
    result = engine.frontier(loaded.problem, _limit(time_limit), max_points, target_gap)
    return loaded, result


def meso(
    path: Path,
    *,
    party: str,
    k: int = 3,
    tolerance: float = 0.02,
    issues: Sequence[str] | None = None,
    time_limit: float = 60.0,
) -> tuple[Loaded, MesoResult]:
    """Multiple equivalent simultaneous offers for one party."""
    loaded = load(path, issues)
    result = engine.meso(
        loaded.problem, party, k=k, tolerance=tolerance, time_limit=_limit(time_limit)
    )
    return loaded, result


@dataclass(frozen=True)
class Overview:
    """What ``make run`` prints: the whole picture of one case."""

    loaded: Loaded
    zone: ZoneResult
    redlines: tuple[IssueMap, ...]
    clashes: ClashesResult | None
    partial_issues: tuple[str, ...]
    partial_zone: ZoneResult | None
    settlements: dict[SettlementRule, Settlement]
    settled_on: Problem


def overview(path: Path, *, time_limit: float = 60.0) -> Overview:
    """Zone, red-line map, clashes and recommended packages in one call.

    When the whole agenda has no admissible package, the recommended packages are
    those of a partial deal on the issues where the single-issue red lines still
    overlap.
    """
    return overview_of(load(path), time_limit=time_limit)


def overview_of(loaded: Loaded, *, time_limit: float = 60.0) -> Overview:
    """:func:`overview` of a case already loaded (e.g. built from a dialogue's positions)."""
    problem = loaded.problem
    zone = engine.check(problem, _limit(time_limit))
    redlines = redline_map(problem)
    found: ClashesResult | None = None
    partial: tuple[str, ...] = ()
    partial_zone: ZoneResult | None = None
    settled_on = problem
    settlements: dict[SettlementRule, Settlement] = {}
    if zone.exists is False:
        found = engine.clashes(problem, limit=5, time_limit=time_limit)
        partial = tuple(problem.issues[m.issue].name for m in redlines if m.has_overlap)
        if partial and problem.is_additive:
            settled_on = problem.restricted_to(list(partial))
            partial_zone = engine.check(settled_on, time_limit)
    target_zone = partial_zone if partial else zone
    if target_zone is not None and target_zone.exists and len(problem.utility_parties) >= 2:
        settlements = engine.settle(settled_on, ALL_RULES, time_limit)
    return Overview(loaded, zone, redlines, found, partial, partial_zone, settlements, settled_on)


# --------------------------------------------------------------------- files
def convert(source: Path, target: Path, *, replace: bool = False) -> list[Path]:
    """Convert between case files (YAML/JSON) and Genius XML domain folders.

    The source is any input :func:`load` reads (it is compiled first, so its errors are
    reported and nothing is written). A target ending in ``.yaml``/``.yml``/``.json``
    is written as a case file; any other target is a folder that receives a Genius XML
    domain and one profile per delegation. Every file is written atomically; an
    existing case file is replaced only with ``replace``.
    """
    case, _ = load_problem(source)
    return save_case(case, target, replace=replace)


def case_schema() -> dict[str, Any]:
    """The JSON Schema of a case file."""
    schema: dict[str, Any] = Case.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def write_case_schema(output: Path, *, replace: bool = False) -> None:
    """Write the JSON Schema of a case file to ``output`` (atomically; an existing file
    only with ``replace``)."""
    write_atomically(output, json.dumps(case_schema(), indent=2) + "\n", replace=replace)
