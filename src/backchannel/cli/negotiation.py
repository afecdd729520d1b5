"""Negotiation-engine commands: analyze, check, clashes, settle, frontier, meso, convert, schema.

Readable tables by default; ``--json`` prints the machine format of
:mod:`backchannel.services.documents`. Exit codes: 0 done, 2 bad input, 3 the time
limit was reached before the answer was proven (the best answer found is printed).

Each command imports the services it runs when it runs: ``--help`` starts without
NumPy, and only a command that needs CP-SAT loads OR-Tools.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from backchannel.cli import render
from backchannel.cli.language import text
from backchannel.errors import InputError
from backchannel.formats.json_stream import write_json
from backchannel.messages import Message, t_
from backchannel.model.results import SettlementRule, Status

T = TypeVar("T")
EXIT_TIME_LIMIT = 3

PathArg = Annotated[
    Path, typer.Argument(help="A case file (.yaml/.json) or a Genius/GeniusWeb domain folder.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the machine format (docs/reference/json.md).")
]
TimeOpt = Annotated[
    float,
    typer.Option("--time-limit", help="Seconds per solve; the best answer so far is kept."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")]
IssuesOpt = Annotated[
    str | None,
    typer.Option(
        "--issues",
        help="Comma-separated issue names: analyse a partial deal on these issues only.",
    ),
]


def _issues(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InputError(t_("--issues is empty"), hint=t_("give issue names separated by commas"))
    return names


@contextmanager
def _progress(message: Message) -> Iterator[None]:
    console = render.stderr_console()
    if console.is_terminal:
        with console.status(text(message), spinner="dots"):
            yield
    else:
        yield


def _run(message: Message, task: Callable[[], T]) -> T:
    with _progress(message):
        return task()


def _emit(as_json: bool, document: Callable[[], dict[str, Any]], table: Callable[[], None]) -> None:
    """Print the machine format (built only then, written piece by piece) or the tables."""
    if as_json:
        write_json(document(), sys.stdout, ensure_ascii=False)
    else:
        table()


def _finish(*statuses: Status) -> None:
    if any(s in (Status.FEASIBLE, Status.UNKNOWN) for s in statuses):
        render.stderr_console().print(
            text(
                t_(
                    "time limit reached: the answer above is the best found, not proven "
                    "(raise --time-limit)"
                )
            ),
            markup=False,
        )
        raise typer.Exit(EXIT_TIME_LIMIT)


def analyze(path: PathArg, time_limit: TimeOpt = 60.0) -> None:
    """Overview of a case: zone of agreement, red-line map, clashes and recommended packages."""
    from backchannel.services import negotiation as service

    result = _run(t_("Analysing..."), lambda: service.overview(path, time_limit=time_limit))
    render.overview(result)
    statuses = [result.zone.status, *(s.status for s in result.settlements.values())]
    _finish(*statuses)


def check(
    path: PathArg, issues: IssuesOpt = None, as_json: JsonOpt = False, time_limit: TimeOpt = 60.0
) -> None:
    """Is there a package that respects every red line? Which options are still viable?"""
    from backchannel.services import documents
    from backchannel.services import negotiation as service

    loaded, zone, redlines = _run(
        t_("Checking red lines..."),
        lambda: service.check(path, issues=_issues(issues), time_limit=time_limit),
    )
    _emit(
        as_json,
        lambda: documents.zone_doc(loaded.problem, zone, redlines),
        lambda: render.zone(loaded.problem, zone, redlines),
    )
    _finish(zone.status)


def clashes(
    path: PathArg,
    issues: IssuesOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Most clash sets to list.")] = 10,
    as_json: JsonOpt = False,
    time_limit: TimeOpt = 60.0,
) -> None:
    """Which red lines clash (minimal sets) and what the cheapest relaxations are."""
    from backchannel.services import documents
    from backchannel.services import negotiation as service

    loaded, result = _run(
        t_("Looking for clashing red lines..."),
        lambda: service.clashes(path, issues=_issues(issues), limit=limit, time_limit=time_limit),
    )
    _emit(
        as_json,
        lambda: documents.clashes_doc(loaded.problem, result),
        lambda: render.clashes(loaded.problem, result),
    )
    _finish(result.relaxation_status)


def settle(
    path: PathArg,
    rule: Annotated[
        list[SettlementRule] | None,
        typer.Option("--rule", help="nash, ks, egalitarian or welfare; repeat for several."),
    ] = None,
    issues: IssuesOpt = None,
    as_json: JsonOpt = False,
    time_limit: TimeOpt = 60.0,
) -> None:
    """Recommend packages by bargaining rules (all four by default)."""
    from backchannel.services import documents
    from backchannel.services import negotiation as service

    rules = tuple(dict.fromkeys(rule)) if rule else service.ALL_RULES
    loaded, answers = _run(
        t_("Solving..."),
        lambda: service.settle(path, rules=rules, issues=_issues(issues), time_limit=time_limit),
    )
    _emit(
        as_json,
        lambda: documents.settlements_doc(loaded.problem, answers),
        lambda: render.settlements(loaded.problem, answers),
    )
    _finish(*(s.status for s in answers.values()))


def frontier(
    path: PathArg,
    issues: IssuesOpt = None,
    max_points: Annotated[
        int, typer.Option("--max-points", help="Size of the sample for 3 or more parties.")
    ] = 30,
    gap: Annotated[
        float | None,
        typer.Option(
            "--gap",
            help="3 or more parties: add points (up to --max-points more) until no "
            "admissible package is more than this ahead of every point shown, on some side.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help="Print at most this many points, evenly spread by utility distance, "
            "with the total count and the largest gap.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    time_limit: TimeOpt = 60.0,
) -> None:
    """The Pareto frontier: exact for 2 parties, a representative set for more."""
    if limit is not None and limit < 1:
        raise InputError(t_("--limit must be at least 1, not {limit}", limit=limit))
    if gap is not None and not 0 < gap < 1:
        raise InputError(
            t_("--gap must lie between 0 and 1 (a utility difference), not {gap}", gap=gap)
        )
    from backchannel.services import documents
    from backchannel.services import negotiation as service

    loaded, result = _run(
        t_("Tracing the frontier..."),
        lambda: service.frontier(
            path,
            issues=_issues(issues),
            max_points=max_points,
            target_gap=gap,
            time_limit=time_limit,
        ),
    )
    _emit(
        as_json,
        lambda: documents.frontier_doc(loaded.problem, result, limit),
        lambda: render.frontier(loaded.problem, result, limit),
    )
    _finish(result.status)


def meso(
    path: PathArg,
    party: Annotated[str, typer.Option("--for", help="The party the offers are equal for.")],
    k: Annotated[int, typer.Option("-k", help="Number of offers.")] = 3,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="How far apart (in utility) the offers may be.")
    ] = 0.02,
    issues: IssuesOpt = None,
    as_json: JsonOpt = False,
    time_limit: TimeOpt = 60.0,
) -> None:
    """Multiple equivalent simultaneous offers: equal for one party, different for the others."""
    from backchannel.services import documents
    from backchannel.services import negotiation as service

    loaded, result = _run(
        t_("Composing offers..."),
        lambda: service.meso(
            path,
            party=party,
            k=k,
            tolerance=tolerance,
            issues=_issues(issues),
            time_limit=time_limit,
        ),
    )
    _emit(
        as_json,
        lambda: documents.meso_doc(loaded.problem, result),
        lambda: render.meso(loaded.problem, result),
    )
    _finish(result.status)


def convert(
    source: PathArg,
    target: Annotated[
        Path,
        typer.Argument(help="A .yaml/.json case file, or a new or empty folder for Genius XML."),
    ],
    force: ForceOpt = False,
) -> None:
    """Convert between case files (YAML/JSON) and Genius XML domain folders."""
    from backchannel.services import negotiation as service

    written = service.convert(source, target, replace=force)
    for path in written:
        typer.echo(text(t_("wrote {path}", path=path)))


def schema(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Print the JSON Schema of the case file."""
    from backchannel.services import negotiation as service

    if output is None:
        typer.echo(json.dumps(service.case_schema(), indent=2))
    else:
        service.write_case_schema(output, replace=force)
        typer.echo(text(t_("wrote {path}", path=output)))


@functools.wraps(clashes)
def conflicts_deprecated(*args: Any, **kwargs: Any) -> None:
    """Deprecated name of ``clashes`` (``conflict`` now means only the GMCR engine)."""
    said = t_(
        "warning: `backchannel conflicts` is deprecated and will be removed; "
        "use `backchannel clashes`"
    )
    typer.echo(text(said), err=True)
    clashes(*args, **kwargs)


def register(app: typer.Typer) -> None:
    """Add the negotiation commands to ``app``."""
    for command in (analyze, check, clashes, settle, frontier, meso, convert, schema):
        app.command()(command)
    app.command("conflicts", hidden=True)(conflicts_deprecated)
