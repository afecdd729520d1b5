"""Readable tables for the terminal (rich)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from backchannel.model.results import (
    Certificate,
    ClashesResult,
    FrontierResult,
    MesoResult,
    Settlement,
    SettlementRule,
    Status,
    ZoneResult,
)

if TYPE_CHECKING:  # the CLI starts without NumPy: see backchannel.cli.negotiation
    from backchannel.model.problem import Package, Problem
    from backchannel.services.negotiation import Overview
    from backchannel.solvers.redline_map import IssueMap

RULE_NAMES = {
    SettlementRule.NASH: "Nash bargaining",
    SettlementRule.KS: "Kalai-Smorodinsky",
    SettlementRule.EGALITARIAN: "Egalitarian",
    SettlementRule.WELFARE: "Max welfare",
}


@cache
def stdout_console() -> Console:
    """The console answers go to."""
    return Console(highlight=False, soft_wrap=False)


@cache
def stderr_console() -> Console:
    """The console for progress and warnings."""
    return Console(stderr=True, highlight=False)


def _say(text: str = "") -> None:
    stdout_console().print(text, markup=False)


def _heading(text: str) -> None:
    stdout_console().print(f"\n[bold]{text}[/bold]")


def _table(*columns: str) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _utilities(problem: Problem, values: tuple[float, ...]) -> str:
    return ", ".join(f"{p} {v:.4f}" for p, v in zip(problem.utility_parties, values, strict=True))


def package_table(problem: Problem, package: Package, title: str | None = None) -> None:
    """One package, issue by issue."""
    if title:
        _say(title)
    table = _table("issue", "option")
    for issue, option in problem.package_labels(package).items():
        table.add_row(issue, option)
    stdout_console().print(table)


MAX_OPTION_ROWS = 50
"""The most options of one issue the red-line map lists (``--json`` lists them all)."""


def redline_table(problem: Problem, zone: ZoneResult, redlines: tuple[IssueMap, ...]) -> None:
    """The red-line map: per issue and option, viable or blocked and by whom.

    An issue with more than :data:`MAX_OPTION_ROWS` options shows that many, then a
    count of the others.
    """
    table = _table("issue", "option", "status")
    for issue_map in redlines:
        issue = problem.issues[issue_map.issue]
        viable = frozenset(zone.viable[issue_map.issue])
        for k, status in enumerate(issue_map.options[:MAX_OPTION_ROWS]):
            name = issue.name if k == 0 else ""
            if status.option in viable:
                text = "[green]viable[/green]"
            elif status.blocked_by:
                text = "[red]blocked[/red] by " + ", ".join(status.blocked_by)
            else:
                text = "[yellow]open[/yellow], but in no admissible package"
            table.add_row(name, issue.labels[status.option], text)
        hidden = len(issue_map.options) - MAX_OPTION_ROWS
        if hidden > 0:
            table.add_row("", f"... and {hidden:,} more options", "(--json lists them all)")
        if not issue_map.has_overlap:
            table.add_row("", "", "[red bold]no overlap on this issue[/red bold]")
    stdout_console().print(table)


def _certificate(certificate: Certificate | None) -> None:
    """How "no package is admissible" was proven without the engine that answered."""
    if certificate is None:
        return
    if certificate.certified:
        _say(f"Proven independently of the engine ({certificate.proof}).")
    else:
        _say("Not certified: the validator found no proof within its limits.")


def zone(problem: Problem, result: ZoneResult, redlines: tuple[IssueMap, ...]) -> None:
    """Answer of ``check``."""
    verdict = {
        True: "yes: at least one package respects every red line",
        False: "no: no package respects every red line",
        None: "unknown: the time limit was reached first",
    }[result.exists]
    _say(f"Zone of possible agreement: {verdict}")
    _certificate(result.certificate)
    if result.count is not None:
        _say(f"Admissible packages: {result.count:,} of {problem.n_packages:,}")
    _heading("Red-line map")
    redline_table(problem, result, redlines)
    if result.witness is not None:
        _heading("An admissible package")
        package_table(problem, result.witness)
    _say(f"\n({result.method}, {result.seconds:.3f} s)")


def clashes(problem: Problem, result: ClashesResult) -> None:
    """Answer of ``clashes``."""
    if result.feasible:
        _say("No clash: some package respects every red line (see `backchannel check`).")
        return
    _certificate(result.certificate)
    _heading("Red lines that cannot hold together")
    for k, found in enumerate(result.clash_sets, start=1):
        parties = sorted({problem.constraint(i).party for i in found.constraint_ids})
        note = "" if found.minimal else " (not proven minimal: time limit)"
        _say(f"{k}. between {', '.join(parties)}{note}")
        for cid in found.constraint_ids:
            c = problem.constraint(cid)
            tag = "stated" if c.stated else "private"
            _say(f"   - [{cid}] {c.text} ({tag}, firmness {c.firmness:g})")
    if not result.complete:
        _say("(more clashing sets may exist: raise --limit)")
    _heading("Cheapest relaxations")
    for k, relax in enumerate(result.relaxations, start=1):
        names = ", ".join(relax.constraint_ids)
        _say(f"{k}. relax {names} (total firmness {relax.cost:g})")
    if result.relaxation_status is not Status.OPTIMAL:
        _say("(the minimum cost is not proven: time limit)")
    _say(f"\n({result.method}, {result.seconds:.3f} s)")


NO_PACKAGE = (
    "No admissible package: see `backchannel clashes` for the red lines that clash, "
    "or try a partial deal with --issues."
)


def settlements(problem: Problem, answers: dict[SettlementRule, Settlement]) -> None:
    """Answer of ``settle``: one column per rule."""
    found = [s for s in answers.values() if s.package is not None]
    if not found:
        status = next(iter(answers.values())).status
        if status is Status.INFEASIBLE:
            _say(NO_PACKAGE)
        else:
            _say("No package found within the time limit.")
        return
    table = _table("issue", *(RULE_NAMES[s.rule] for s in found))
    for i, issue in enumerate(problem.issues):
        row = [issue.labels[s.package[i]] for s in found if s.package is not None]
        table.add_row(issue.name, *row)
    for p, party in enumerate(problem.utility_parties):
        table.add_row(f"u({party})", *(f"{s.utilities[p]:.4f}" for s in found))
    table.add_row("ties", *(_ties(s) for s in found))
    table.add_row("proven", *("yes" if s.status is Status.OPTIMAL else "no" for s in found))
    stdout_console().print(table)
    methods = sorted({s.method for s in found})
    seconds = sum(s.seconds for s in found)
    _say(f"\n({', '.join(methods)}, {seconds:.3f} s)")


def _ties(s: Settlement) -> str:
    if s.ties is not None:
        return "none" if s.ties == 0 else f"{s.ties} other package(s)"
    if s.has_ties is None:
        return "unknown"
    return "yes" if s.has_ties else "none"


MAX_FRONTIER_ROWS = 50
"""The most frontier points the table lists without ``--limit`` (``--json`` lists them all)."""


def frontier(problem: Problem, result: FrontierResult, limit: int | None = None) -> None:
    """Answer of ``frontier``: every point, or at most ``limit`` (default
    :data:`MAX_FRONTIER_ROWS`) evenly spread ones with the largest gap they leave."""
    from backchannel.model.frontier import spread

    kind = "exact" if result.exact else "representative sample"
    points = result.points
    _say(f"Pareto frontier ({kind}): {len(points)} package(s)")
    rows, gap = spread(points.utilities, MAX_FRONTIER_ROWS if limit is None else limit)
    table = _table("#", *problem.utility_parties, "package")
    for k in rows.tolist():
        point = points[k]
        labels = "; ".join(problem.package_labels(point.package).values())
        table.add_row(str(k + 1), *(f"{u:.4f}" for u in point.utilities), labels)
    stdout_console().print(table)
    if rows.size < len(points):
        more = "" if limit is not None else "; --limit N for more, --json for all"
        _say(
            f"({rows.size} of {len(points)} points, evenly spread: every point is within "
            f"{gap:.4f} in utility of one shown{more})"
        )
    _say(f"\n({result.method}, {result.seconds:.3f} s)")


def meso(problem: Problem, result: MesoResult) -> None:
    """Answer of ``meso``."""
    if not result.points:
        if result.status is Status.INFEASIBLE:
            _say(NO_PACKAGE)
        else:
            _say("No offers found within the time limit: try a larger --time-limit.")
        _say(f"\n({result.method}, {result.seconds:.3f} s)")
        return
    _say(
        f"{len(result.points)} offers worth {result.target:.4f} ± {result.tolerance:g} "
        f"to {result.party}, spread {result.spread:.4f} for the others"
    )
    table = _table("issue", *(f"offer {k}" for k in range(1, len(result.points) + 1)))
    for i, issue in enumerate(problem.issues):
        table.add_row(issue.name, *(issue.labels[p.package[i]] for p in result.points))
    for p, party in enumerate(problem.utility_parties):
        table.add_row(f"u({party})", *(f"{pt.utilities[p]:.4f}" for pt in result.points))
    stdout_console().print(table)
    _say(f"\n({result.method}, {result.seconds:.3f} s)")


def overview(result: Overview) -> None:
    """What ``backchannel analyze`` (and ``make run``) prints."""
    problem = result.loaded.problem
    stdout_console().print(f"[bold]{problem.title}[/bold]")
    _say(
        f"{len(problem.issues)} issues, {problem.n_packages:,} possible packages; "
        f"delegations: {', '.join(problem.utility_parties)}; "
        f"absent stakeholders: "
        f"{', '.join(p for p in problem.parties if p not in problem.utility_parties) or 'none'}"
    )
    _heading("Zone of possible agreement on the whole agenda")
    zone(problem, result.zone, result.redlines)
    if result.clashes is not None:
        clashes(problem, result.clashes)
    if result.partial_issues:
        _heading("Room for a partial deal")
        _say(f"Issues where the red lines still overlap: {', '.join(result.partial_issues)}")
        if result.partial_zone is not None and result.partial_zone.count is not None:
            _say(
                f"Admissible packages on these issues: {result.partial_zone.count:,} "
                f"of {result.settled_on.n_packages:,}"
            )
    if result.settlements:
        _heading("Recommended packages")
        settlements(result.settled_on, result.settlements)
