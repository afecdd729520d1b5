"""GMCR commands: ``backchannel conflict analyze|explain|paths|graph|convert``.

Each command imports the conflict service (and NumPy) when it runs, so that the CLI
starts quickly.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backchannel.errors import InputError
from backchannel.formats.json_stream import write_json

if TYPE_CHECKING:
    from backchannel.services.conflict import Analysis

conflict_app = typer.Typer(
    name="conflict",
    help="Escalation analysis with the Graph Model for Conflict Resolution (GMCR).",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="Conflict file (.yaml, .yml, .json or .gmcr).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")]
MAX_ROWS = 64
"""The most states a table lists (``--json`` lists them all)."""

MAX_LISTED = 64
"""The most robust or possible equilibria listed on one line (``--json`` lists them all)."""


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _print_json(doc: dict[str, Any]) -> None:
    write_json(doc, sys.stdout)


@conflict_app.command("analyze")
def analyze_command(
    file: FileArg,
    concepts: Annotated[
        str | None,
        typer.Option(
            "--concepts",
            help="Comma-separated: nash,gmr,smr,seq,sim,seqsim,limited,nonmyopic "
            "(default: nash,gmr,smr,seq,sim,seqsim).",
        ),
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Horizon h of limited-move L_h.")] = 2,
    as_json: JsonOpt = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the result as bitmaps to this .npz file instead "
            "(docs/reference/bitmap.md).",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Stable states of each decision maker and the equilibria, per solution concept."""
    from backchannel.services import conflict as service

    if as_json and output is not None:
        raise InputError("--json and --output both ask for the result; give one of them")
    analysis = service.analyze_file(file, service.parse_concepts(concepts), horizon=horizon)
    if output is not None:
        size = service.write_analysis_bitmaps(analysis, output, replace=force)
        _out().print(f"wrote {output} ({analysis.conflict.n_states} states, {size:,} bytes)")
        return
    if as_json:
        write_json(service.analysis_doc(analysis), sys.stdout)
        return
    _analysis_tables(analysis)


def _analysis_tables(analysis: Analysis) -> None:
    """The readable tables of ``analyze``: at most :data:`MAX_ROWS` states per concept."""
    from backchannel.conflict.state_text import state_strings

    console = _out()
    conflict, report, names = analysis.conflict, analysis.report, analysis.state_names
    console.print(f"{conflict.title}: {conflict.n_states} feasible states")
    console.print(f"options: {' '.join(conflict.option_ids)}")
    for concept in report.concepts:
        stable, equilibria = report.stable[concept], report.equilibria[concept]
        table = Table(title=f"{concept.upper()}: {len(equilibria)} equilibria")
        table.add_column("state")
        if names:
            table.add_column("name")
        for mover in report.movers:
            table.add_column(mover, justify="center")
        table.add_column("equilibrium", justify="center")
        rows, count = report.shown_states(concept, MAX_ROWS)
        for state, text in zip(rows, state_strings(conflict, rows), strict=True):
            marks = ["yes" if stable[i][state] else "" for i in range(len(report.movers))]
            named = [Text(names.get(state, ""))] if names else []  # no markup
            mark = "EQ" if report.is_equilibrium(concept, state) else ""
            table.add_row(text, *named, *marks, mark)
        console.print(table)
        if count > MAX_ROWS:
            console.print(f"({count - MAX_ROWS} more equilibria; use --json)")
    if analysis.uncertainty is not None:
        for reading in ("robust", "possible"):
            found = getattr(analysis.uncertainty, reading).equilibria
            for concept in report.concepts:
                shown = state_strings(conflict, found[concept][:MAX_LISTED])
                more = len(found[concept]) - len(shown)
                text = " ".join(shown) + (f" and {more} more (use --json)" if more > 0 else "")
                console.print(f"{reading} {concept}: {text or '(none)'}")


def _responders(actor: str) -> str:
    """``B&C`` as "at the same time B and C move" (a SIM response's joint actor)."""
    names = actor.split("&")
    if len(names) == 1:
        return f"at the same time {actor} moves"
    return f"at the same time {', '.join(names[:-1])} and {names[-1]} move"


@conflict_app.command("explain")
def explain_command(
    file: FileArg,
    dm: Annotated[str, typer.Option("--dm", help="Decision maker (or coalition A+B).")],
    state: Annotated[str, typer.Option("--state", help="State as Y/N letters, e.g. YNN.")],
    concept: Annotated[str, typer.Option("--concept", help="Solution concept.")] = "gmr",
    horizon: Annotated[int, typer.Option("--horizon", help="Horizon h of L_h.")] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Each improvement of a decision maker from a state and the sanction deterring it."""
    from backchannel.services import conflict as service

    conflict, explanation = service.explain_file(file, dm, state, concept, horizon=horizon)
    doc = service.explanation_doc(conflict, explanation)
    if as_json:
        _print_json(doc)
        return
    console = _out()
    verdict = "stable" if doc["stable"] else "unstable"
    console.print(f"{doc['state']} is {verdict} for {doc['dm']} under {doc['concept'].upper()}")
    if not doc["improvements"]:
        console.print(f"{doc['dm']} has no unilateral improvement from {doc['state']}.")
    for item in doc["improvements"]:
        sanction = item["sanction"]
        if sanction is None:
            console.print(f"  {doc['state']} -> {item['target']}: no sanction")
            continue
        label = "deterred" if item["deterred"] else "not deterred"
        if sanction["simultaneous"]:
            console.print(
                f"  {doc['state']} -> {item['target']}, {_responders(sanction['actors'][0])}: "
                f"-> {sanction['states'][-1]}  (simultaneous, {label})"
            )
            continue
        steps = " ".join(
            f"-[{actor}]-> {state_}"
            for actor, state_ in zip(sanction["actors"], sanction["states"][1:], strict=True)
        )
        console.print(f"  {doc['state']} -> {item['target']} {steps}  ({label})")
        if sanction["countermove"]:
            console.print(f"    best countermove: {sanction['countermove']}")


@conflict_app.command("paths")
def paths_command(file: FileArg, as_json: JsonOpt = False) -> None:
    """Shortest paths from the status quo to each equilibrium (improvements and any moves)."""
    from backchannel.services import conflict as service

    conflict, report = service.paths_file(file)
    doc = service.paths_doc(conflict, report)
    if as_json:
        _print_json(doc)
        return
    console = _out()
    console.print(
        f"status quo {doc['status_quo']}: {doc['reachable']['by_improvements']} states "
        f"reachable by improvements, {doc['reachable']['by_moves']} by any moves"
    )
    for item in doc["paths"]:
        for kind in ("by_improvements", "by_moves"):
            steps = item[kind]
            text = (
                "unreachable"
                if steps is None
                else " ".join([doc["status_quo"]] + [f"-[{s['mover']}]-> {s['to']}" for s in steps])
            )
            console.print(f"{item['target']} {kind.replace('_', ' ')}: {text}")


@conflict_app.command("graph")
def graph_command(
    file: FileArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .svg file.")],
    concept: Annotated[str, typer.Option("--concept", help="Equilibria to highlight.")] = "gmr",
    force: ForceOpt = False,
) -> None:
    """Draw the state graph as SVG, highlighting the equilibria of one concept."""
    from backchannel.services import conflict as service

    count = service.graph_file(file, out, concept, replace=force)
    _out().print(f"wrote {out} ({count} equilibria highlighted)")


@conflict_app.command("convert")
def convert_command(
    source: Annotated[Path, typer.Argument(help="Input conflict file.")],
    target: Annotated[Path, typer.Argument(help="Output file; format by suffix.")],
    force: ForceOpt = False,
) -> None:
    """Convert a conflict between YAML/JSON and GMCR+ .gmcr (by suffix)."""
    from backchannel.services import conflict as service

    service.convert_file(source, target, replace=force)
    _out().print(f"wrote {target}")


def register(app: typer.Typer) -> None:
    """Add the ``conflict`` command group to ``app``."""
    app.add_typer(conflict_app, name="conflict")
