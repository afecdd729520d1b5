"""Use-case of blind mode: evaluate one finding of a case file by secure computation.

The case file is read and checked here as a whole (so that its errors point into it);
:mod:`backchannel.blind.run` then gives each delegation's process only its own side, and
every party a throwaway certificate pinned by the others (the TLS of real nodes).
"""

from __future__ import annotations

from pathlib import Path

from backchannel.blind.local import links
from backchannel.blind.plan import Finding, make_plan
from backchannel.blind.pruning import public_pruning
from backchannel.blind.run import DEFAULT_TIMEOUT, BlindResult, run_blind, warm_up
from backchannel.formats.cases import load_problem
from backchannel.model.problem import Problem
from backchannel.services import node as node_service


def evaluate(
    path: Path, finding: Finding, helpers: int, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[Problem, BlindResult]:
    """Run one blind evaluation of the case at ``path`` on loopback.

    Returns the compiled case (to name the options of an opened package) and the result.

    Parameters
    ----------
    path:
        A case file; each delegation in it becomes one party.
    finding:
        The one finding to compute and open.
    helpers:
        Number of helper parties (at least 1).
    timeout:
        Seconds before the evaluation is stopped with nothing opened.
    """
    warm_up()  # the party server imports while the case is read and the keys are made
    case, problem = load_problem(path)
    sizes = tuple(issue.size for issue in problem.issues)
    # Each side would publish the issue sets its conditions link; here one file holds them all.
    # Options an absent stakeholder's stated red line forbids are public: not enumerated.
    kept = public_pruning(case, str(path))
    plan = make_plan(finding, sizes, len(problem.utility_parties), helpers, links(problem), kept)
    # Every party gets a throwaway identity: the run takes the same pinned-TLS path as
    # real nodes (backchannel node run), and the keys vanish with the folder. The parties
    # are forked from one warm interpreter (one start-up, not one per party).
    with node_service.private_folder() as folder:
        parties = node_service.throwaway_credentials(plan.parties, Path(folder))
        return problem, run_blind(case, plan, timeout=timeout, credentials=parties, warm=True)
