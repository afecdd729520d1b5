"""Readable tables for the terminal (rich)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backchannel.cli.language import text
from backchannel.messages import Text, t_, t_n
from backchannel.model.results import (
    Certificate,
    ClashesResult,
    Coverage,
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
    SettlementRule.NASH: t_("Nash bargaining"),
    SettlementRule.KS: t_("Kalai-Smorodinsky"),
    SettlementRule.EGALITARIAN: t_("Egalitarian"),
    SettlementRule.WELFARE: t_("Max welfare"),
}


@cache
def stdout_console() -> Console:
    """The console answers go to."""
    return Console(highlight=False, soft_wrap=False)


@cache
def stderr_console() -> Console:
    """The console for progress and warnings."""
    return Console(stderr=True, highlight=False)


def _say(said: Text = "") -> None:
    stdout_console().print(text(said), markup=False)


def _heading(said: Text) -> None:
    stdout_console().print(f"\n[bold]{escape(text(said))}[/bold]")


def _table(*columns: Text) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(text(column), overflow="fold")
    return table


def _closing(method: str, seconds: float) -> None:
    """The closing line of an answer, after a blank one: the engine that gave it and how
    long it took."""
    _say()
    _say(t_("({method}, {seconds} s)", method=method, seconds=f"{seconds:.3f}"))


ISSUE = t_("issue")
OPTION = t_("option")


def _utilities(problem: Problem, values: tuple[float, ...]) -> str:
    return ", ".join(f"{p} {v:.4f}" for p, v in zip(problem.utility_parties, values, strict=True))


def package_table(problem: Problem, package: Package, title: str | None = None) -> None:
    """One package, issue by issue."""
    if title:
        _say(title)
    table = _table(ISSUE, OPTION)
    for issue, option in problem.package_labels(package).items():
        table.add_row(escape(issue), escape(option))
    stdout_console().print(table)


MAX_OPTION_ROWS = 50
"""The most options of one issue the red-line map lists (``--json`` lists them all)."""


def redline_table(problem: Problem, zone: ZoneResult, redlines: tuple[IssueMap, ...]) -> None:
    """The red-line map: per issue and option, viable or blocked and by whom.

    An issue with more than :data:`MAX_OPTION_ROWS` options shows that many, then a
    count of the others.
    """
    table = _table(ISSUE, OPTION, t_("status"))
    for issue_map in redlines:
        issue = problem.issues[issue_map.issue]
        viable = frozenset(zone.viable[issue_map.issue])
        for k, status in enumerate(issue_map.options[:MAX_OPTION_ROWS]):
            name = issue.name if k == 0 else ""
            if status.option in viable:
                said = f"[green]{escape(text(t_('viable')))}[/green]"
            elif status.blocked_by:
                blocked = t_("blocked by {parties}", parties=", ".join(status.blocked_by))
                said = f"[red]{escape(text(blocked))}[/red]"
            else:
                open_only = t_("open, but in no admissible package")
                said = f"[yellow]{escape(text(open_only))}[/yellow]"
            table.add_row(escape(name), escape(issue.labels[status.option]), said)
        hidden = len(issue_map.options) - MAX_OPTION_ROWS
        if hidden > 0:
            more = t_n("... and {n:,} more option", "... and {n:,} more options", hidden)
            table.add_row("", text(more), text(t_("(--json lists them all)")))
        if not issue_map.has_overlap:
            said = escape(text(t_("no overlap on this issue")))
            table.add_row("", "", f"[red bold]{said}[/red bold]")
    stdout_console().print(table)


def _certificate(certificate: Certificate | None) -> None:
    """How "no package is admissible" was proven without the engine that answered."""
    if certificate is None:
        return
    if certificate.certified:
        _say(t_("Proven independently of the engine ({proof}).", proof=certificate.proof))
    else:
        _say(t_("Not certified: the validator found no proof within its limits."))


def zone(problem: Problem, result: ZoneResult, redlines: tuple[IssueMap, ...]) -> None:
    """Answer of ``check``."""
    verdict = {
        True: t_("yes: at least one package respects every red line"),
        False: t_("no: no package respects every red line"),
        None: t_("unknown: the time limit was reached first"),
    }[result.exists]
    _say(t_("Zone of possible agreement: {verdict}", verdict=verdict))
    _certificate(result.certificate)
    if result.count is not None:
        _say(
            t_(
                "Admissible packages: {count} of {total}",
                count=f"{result.count:,}",
                total=f"{problem.n_packages:,}",
            )
        )
    _heading(t_("Red-line map"))
    redline_table(problem, result, redlines)
    if result.witness is not None:
        _heading(t_("An admissible package"))
        package_table(problem, result.witness)
    _closing(result.method, result.seconds)


def clashes(problem: Problem, result: ClashesResult) -> None:
    """Answer of ``clashes``."""
    if result.feasible:
        _say(t_("No clash: some package respects every red line (see `backchannel check`)."))
        return
    _certificate(result.certificate)
    _heading(t_("Red lines that cannot hold together"))
    for k, found in enumerate(result.clash_sets, start=1):
        parties = ", ".join(sorted({problem.constraint(i).party for i in found.constraint_ids}))
        if found.minimal:
            _say(t_("{k}. between {parties}", k=k, parties=parties))
        else:
            _say(
                t_("{k}. between {parties} (not proven minimal: time limit)", k=k, parties=parties)
            )
        for cid in found.constraint_ids:
            c = problem.constraint(cid)
            said = (
                t_(
                    "   - [{id}] {text} (stated, firmness {firmness})",
                    id=cid,
                    text=c.text,
                    firmness=f"{c.firmness:g}",
                )
                if c.stated
                else t_(
                    "   - [{id}] {text} (private, firmness {firmness})",
                    id=cid,
                    text=c.text,
                    firmness=f"{c.firmness:g}",
                )
            )
            _say(said)
    if not result.complete:
        _say(t_("(more clashing sets may exist: raise --limit)"))
    _heading(t_("Cheapest relaxations"))
    for k, relax in enumerate(result.relaxations, start=1):
        names = ", ".join(relax.constraint_ids)
        _say(
            t_(
                "{k}. relax {names} (total firmness {cost})",
                k=k,
                names=names,
                cost=f"{relax.cost:g}",
            )
        )
    if result.relaxation_status is not Status.OPTIMAL:
        _say(t_("(the minimum cost is not proven: time limit)"))
    _closing(result.method, result.seconds)


NO_PACKAGE = t_(
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
            _say(t_("No package found within the time limit."))
        return
    table = _table(ISSUE, *(RULE_NAMES[s.rule] for s in found))
    for i, issue in enumerate(problem.issues):
        row = [issue.labels[s.package[i]] for s in found if s.package is not None]
        table.add_row(escape(issue.name), *(escape(label) for label in row))
    for p, party in enumerate(problem.utility_parties):
        table.add_row(escape(f"u({party})"), *(f"{s.utilities[p]:.4f}" for s in found))
    table.add_row(text(t_("ties")), *(text(_ties(s)) for s in found))
    yes, no = text(t_("yes")), text(t_("no"))
    table.add_row(text(t_("proven")), *(yes if s.status is Status.OPTIMAL else no for s in found))
    stdout_console().print(table)
    methods = sorted({s.method for s in found})
    seconds = sum(s.seconds for s in found)
    _closing(", ".join(methods), seconds)


def _ties(s: Settlement) -> Text:
    if s.ties is not None:
        if s.ties == 0:
            return t_("none")
        return t_n("{n} other package", "{n} other packages", s.ties)
    if s.has_ties is None:
        return t_("unknown")
    return t_("yes") if s.has_ties else t_("none")


MAX_FRONTIER_ROWS = 50
"""The most frontier points the table lists without ``--limit`` (``--json`` lists them all)."""


def frontier(problem: Problem, result: FrontierResult, limit: int | None = None) -> None:
    """Answer of ``frontier``: every point, or at most ``limit`` (default
    :data:`MAX_FRONTIER_ROWS`) evenly spread ones with the largest gap they leave."""
    from backchannel.model.frontier import spread

    points = result.points
    if result.exact:
        _say(
            t_n(
                "Pareto frontier (exact): {n} package",
                "Pareto frontier (exact): {n} packages",
                len(points),
            )
        )
    else:
        _say(
            t_n(
                "Pareto frontier (representative sample): {n} package",
                "Pareto frontier (representative sample): {n} packages",
                len(points),
            )
        )
    rows, gap = spread(points.utilities, MAX_FRONTIER_ROWS if limit is None else limit)
    table = _table("#", *(escape(party) for party in problem.utility_parties), t_("package"))
    for k in rows.tolist():
        point = points[k]
        labels = "; ".join(problem.package_labels(point.package).values())
        table.add_row(str(k + 1), *(f"{u:.4f}" for u in point.utilities), escape(labels))
    stdout_console().print(table)
    if rows.size < len(points):
        shown = {"shown": rows.size, "total": len(points), "gap": f"{gap:.4f}"}
        said = (
            t_(
                "({shown} of {total} points, evenly spread: every point is within {gap} in "
                "utility of one shown)",
                **shown,
            )
            if limit is not None
            else t_(
                "({shown} of {total} points, evenly spread: every point is within {gap} in "
                "utility of one shown; --limit N for more, --json for all)",
                **shown,
            )
        )
        _say(said)
    if result.coverage is not None:
        _coverage(result.coverage)
    _closing(result.method, result.seconds)


def _coverage(covered: Coverage) -> None:
    """What a representative set's coverage guarantees."""
    if covered.proven:
        _say(
            t_(
                "Coverage: every admissible package has a point here at most {gap} behind it "
                "on every side (proven).",
                gap=f"{covered.bound:.4f}",
            )
        )
    else:
        _say(
            t_(
                "Coverage: every admissible package has a point here at most {bound} behind "
                "it on every side (proven bound); the furthest package found is {gap} ahead.",
                bound=f"{covered.bound:.4f}",
                gap=f"{covered.gap:.4f}",
            )
        )
    if covered.target is not None and covered.bound > covered.target:
        _say(
            t_(
                "The gap {target} asked for was not reached: allow more time or more points "
                "(--time-limit, --max-points).",
                target=f"{covered.target:g}",
            )
        )


def meso(problem: Problem, result: MesoResult) -> None:
    """Answer of ``meso``."""
    if not result.points:
        if result.status is Status.INFEASIBLE:
            _say(NO_PACKAGE)
        else:
            _say(t_("No offers found within the time limit: try a larger --time-limit."))
        _closing(result.method, result.seconds)
        return
    _say(
        t_n(
            "{n} offer worth {target} ± {tolerance} to {party}, spread {spread} for the others",
            "{n} offers worth {target} ± {tolerance} to {party}, spread {spread} for the others",
            len(result.points),
            target=f"{result.target:.4f}",
            tolerance=f"{result.tolerance:g}",
            party=result.party,
            spread=f"{result.spread:.4f}",
        )
    )
    offers = (t_("offer {k}", k=k) for k in range(1, len(result.points) + 1))
    table = _table(ISSUE, *offers)
    for i, issue in enumerate(problem.issues):
        labels = (escape(issue.labels[p.package[i]]) for p in result.points)
        table.add_row(escape(issue.name), *labels)
    for p, party in enumerate(problem.utility_parties):
        table.add_row(escape(f"u({party})"), *(f"{pt.utilities[p]:.4f}" for pt in result.points))
    stdout_console().print(table)
    _closing(result.method, result.seconds)


def overview(result: Overview) -> None:
    """What ``backchannel analyze`` (and ``make run``) prints."""
    problem = result.loaded.problem
    stdout_console().print(f"[bold]{escape(problem.title)}[/bold]")
    absent = ", ".join(p for p in problem.parties if p not in problem.utility_parties)
    _say(
        t_n(
            "{n} issue, {packages} possible packages; delegations: {delegations}; absent "
            "stakeholders: {absent}",
            "{n} issues, {packages} possible packages; delegations: {delegations}; absent "
            "stakeholders: {absent}",
            len(problem.issues),
            packages=f"{problem.n_packages:,}",
            delegations=", ".join(problem.utility_parties),
            absent=absent or t_("none"),
        )
    )
    _heading(t_("Zone of possible agreement on the whole agenda"))
    zone(problem, result.zone, result.redlines)
    if result.clashes is not None:
        clashes(problem, result.clashes)
    if result.partial_issues:
        _heading(t_("Room for a partial deal"))
        issues = ", ".join(result.partial_issues)
        _say(t_("Issues where the red lines still overlap: {issues}", issues=issues))
        if result.partial_zone is not None and result.partial_zone.count is not None:
            _say(
                t_(
                    "Admissible packages on these issues: {count} of {total}",
                    count=f"{result.partial_zone.count:,}",
                    total=f"{result.settled_on.n_packages:,}",
                )
            )
    if result.settlements:
        _heading(t_("Recommended packages"))
        settlements(result.settled_on, result.settlements)
