"""Blind-mode commands: ``backchannel blind evaluate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from backchannel.blind.plan import Finding
from backchannel.cli.language import text
from backchannel.cli.node import OVERLAP
from backchannel.messages import t_, t_n

if TYPE_CHECKING:  # the command imports what it runs on (start-up time: tests/test_startup.py)
    from backchannel.blind.run import BlindResult
    from backchannel.model.problem import Problem

blind_app = typer.Typer(
    name="blind",
    help="Findings computed by secure multi-party computation: no party sees another's inputs.",
    no_args_is_help=True,
)


def _doc(problem: Problem, result: BlindResult) -> dict[str, Any]:
    opened = result.opened
    doc: dict[str, Any] = {
        "finding": result.plan.finding.value,
        "delegations": result.plan.delegations,
        "helpers": result.plan.helpers,
        "seconds": round(result.wall_seconds, 3),
    }
    if opened.overlap is not None:
        doc["overlap"] = {
            issue.name: bit for issue, bit in zip(problem.issues, opened.overlap, strict=True)
        }
    else:
        doc["exists"] = opened.exists
    if result.plan.finding in (Finding.NASH, Finding.RANDOM):
        doc["package"] = None if opened.package is None else problem.package_values(opened.package)
    return doc


def _print(problem: Problem, result: BlindResult) -> None:
    out = Console(highlight=False, soft_wrap=True)
    opened = result.opened
    plan = result.plan
    helpers = t_n("{n} helper", "{n} helpers", plan.helpers)
    said = t_n(
        "blind {finding}: {n} delegation, {helpers}, {seconds} s",
        "blind {finding}: {n} delegations, {helpers}, {seconds} s",
        plan.delegations,
        finding=plan.finding.value,
        helpers=helpers,
        seconds=f"{result.wall_seconds:.2f}",
    )
    out.print(text(said), markup=False)
    if opened.overlap is not None:
        for issue, bit in zip(problem.issues, opened.overlap, strict=True):
            out.print(f"  {issue.name}: {text(OVERLAP[bit])}", markup=False)
    elif opened.package is not None:
        said = (
            t_("recommended package (Nash product over gains):")
            if plan.finding is Finding.NASH
            else t_(
                "recommended package (drawn uniformly among the admissible Pareto-efficient "
                "packages):"
            )
        )
        out.print("  " + text(said), markup=False)
        for name, label in problem.package_labels(opened.package).items():
            out.print(f"    {name}: {label}", markup=False)
    elif plan.finding is Finding.REDLINES:
        said = (
            t_("some package respects every red line and condition")
            if opened.exists
            else t_("no package respects every red line and condition")
        )
        out.print("  " + text(said), markup=False)
    elif plan.finding in (Finding.NASH, Finding.RANDOM) or opened.exists is False:
        out.print("  " + text(t_("no admissible package")), markup=False)
    else:
        out.print("  " + text(t_("an admissible package exists")), markup=False)


@blind_app.command("evaluate")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Case file; each delegation becomes one party.")],
    finding: Annotated[
        Finding, typer.Option("--finding", help="The one finding to compute and open.")
    ] = Finding.OVERLAP,
    helpers: Annotated[
        int, typer.Option("--helpers", help="Number of helper parties (1 to 3).")
    ] = 1,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds before the evaluation is stopped.")
    ] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Compute one finding by secure computation, one local process per party (loopback)."""
    from backchannel.formats.json_stream import write_json
    from backchannel.services import blind as service

    problem, result = service.evaluate(file, finding, helpers, timeout=timeout)
    if as_json:
        write_json(_doc(problem, result), sys.stdout)
    else:
        _print(problem, result)


def register(app: typer.Typer) -> None:
    """Add the ``blind`` command group to the main application."""
    app.add_typer(blind_app)
