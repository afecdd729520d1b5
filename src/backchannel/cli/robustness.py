"""The ``robustness`` command: does the recommendation survive rough ratings?

The engines load only when the command runs, so that ``backchannel --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backchannel.errors import InputError
from backchannel.model.results import SettlementRule

if TYPE_CHECKING:
    from backchannel.model.problem import Package
    from backchannel.services.robustness import RobustnessResult

EXIT_TIME_LIMIT = 3
TOP_PACKAGES = 10
"""The most packages the table lists (``--json`` lists them all)."""
MEET = 0.0005
"""Points between a proven bound and a change that alters the answer, below which the
table reports one threshold (they print the same at three decimals)."""


def robustness(
    path: Annotated[
        Path, typer.Argument(help="A case file (.yaml/.json) or a Genius/GeniusWeb domain folder.")
    ],
    rule: Annotated[
        SettlementRule,
        typer.Option("--rule", help="nash, ks, egalitarian or welfare."),
    ] = SettlementRule.NASH,
    noise: Annotated[
        float, typer.Option("--noise", help="Move every rating by up to this many points (±).")
    ] = 5.0,
    samples: Annotated[int, typer.Option("--samples", help="Perturbations to solve.")] = 1000,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the samples (printed when omitted).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Processes on this machine (default: every core)."),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Run the samples on the Ray cluster at this HOST:PORT."),
    ] = None,
    issues: Annotated[
        str | None,
        typer.Option("--issues", help="Comma-separated issue names: test a partial deal."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the machine format (docs/reference/json.md).")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", help="Seconds per solve; the best answer so far is kept."),
    ] = 60.0,
) -> None:
    """How often each package is recommended when every rating moves by up to ±noise points."""
    from backchannel.services import robustness as service

    if ray is not None and workers is not None:
        raise InputError(
            "--workers and --ray do not go together",
            hint="a Ray cluster schedules its own workers; drop --workers",
        )
    names = None
    if issues is not None:
        names = [name.strip() for name in issues.split(",") if name.strip()]
        if not names:
            raise InputError("--issues is empty", hint="give issue names separated by commas")
    _, result = service.robustness(
        path,
        rule=rule,
        noise=noise,
        samples=samples,
        seed=seed,
        workers=workers,
        ray_address=ray,
        issues=names,
        time_limit=time_limit,
    )
    if as_json:
        typer.echo(json.dumps(service.robustness_doc(result), indent=2, ensure_ascii=False))
    else:
        _table(result)
    if result.unproven:
        typer.echo(
            f"time limit reached in {result.unproven} sample(s): their best package was "
            "counted, not proven (raise --time-limit)",
            err=True,
        )
        raise typer.Exit(EXIT_TIME_LIMIT)


def _threshold_line(result: RobustnessResult) -> str:
    found = result.threshold
    seen = result.smallest_change
    witness = (
        f"the smallest change found to alter it, in the samples or by a directed search, "
        f"is {seen:.3f} points"
        if seen is not None
        else "no change was found that alters it"
    )
    if found is None:
        return f"Not computed (agenda too large); {witness}."
    if found.points is None:
        return f"No change of the ratings can alter it (the only admissible package); {witness}."
    if found.exact:
        return (
            f"Exactly {found.points:.3f} points: every rating may move that far and the "
            f"answer holds; a little more can change it ({witness})."
        )
    if seen is not None and seen - found.points < MEET:
        return (
            f"{found.points:.3f} points: every rating may move that far and the answer holds "
            f"(a proven bound), and a change of {seen:.3f} points alters it."
        )
    return (
        f"At least {found.points:.3f} points (a proven bound: every rating may move that far "
        f"and the answer holds); {witness}."
    )


def _difference(result: RobustnessResult, package: Package | None) -> str:
    """A package as its differences from the unperturbed recommendation."""
    current = result.recommendation.package
    assert current is not None
    if package is None:
        return "no admissible package"
    if package == current:
        return "the unperturbed recommendation"
    issues = result.problem.issues
    return "; ".join(
        f"{issue.name}: {issue.labels[option]}"
        for issue, option, was in zip(issues, package, current, strict=True)
        if option != was
    )


def _table(result: RobustnessResult) -> None:
    from rich.console import Console
    from rich.table import Table

    from backchannel.services.robustness import describe_partial

    console = Console(highlight=False, soft_wrap=False)

    def say(text: str = "") -> None:
        console.print(text, markup=False)

    def table(*columns: str) -> Table:
        out = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in columns:
            out.add_column(column, overflow="fold")
        return out

    note = describe_partial(result)
    if note:
        say(f"Note: {note}.")
    say(
        f"Robustness of the {result.rule.value} recommendation: {result.samples:,} samples, "
        f"every rating moved by up to ±{result.noise:g} points (seed {result.seed}; "
        f"{result.runner}; {result.seconds:.2f} s)."
    )
    console.print("\n[bold]Recommendation and issue stability[/bold]")
    stability = table("issue", "unperturbed option", "kept in")
    for issue in result.issues:
        stability.add_row(issue.issue, issue.option, f"{issue.share:.1%}")
    console.print(stability)
    console.print("\n[bold]Packages recommended under perturbation[/bold]")
    packages = table("share", "package (what differs from the unperturbed recommendation)")
    for s in result.packages[:TOP_PACKAGES]:
        packages.add_row(f"{s.share:.1%}", _difference(result, s.package))
    console.print(packages)
    if len(result.packages) > TOP_PACKAGES:
        say(f"... and {len(result.packages) - TOP_PACKAGES} more (--json lists them all)")
    console.print("\n[bold]Smallest change of the ratings that changes the answer[/bold]")
    say(_threshold_line(result))


def register(app: typer.Typer) -> None:
    """Add the ``robustness`` command to ``app``."""
    app.command()(robustness)
