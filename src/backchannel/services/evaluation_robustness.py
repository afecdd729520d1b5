"""Use-case: how robust is an evaluation's recommendation? (the facilitator's analysis page)

The facilitator asks it of one evaluation: the sweep of
:func:`backchannel.services.robustness.robustness_of_round` runs on **exactly the inputs
that evaluation read** (the agenda and every side's position at lock time, sealed with
it: :func:`backchannel.services.evaluations.read_inputs`), never on the positions as they
are now, so a later revision changes nothing for an earlier evaluation. It is a
computation on the sides' private inputs, so, like an evaluation, every run is written to
the log every delegation reads (``robustness.checked``). Only the facilitator may run it;
anyone else gets NotFound, as for a missing evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.errors import AnalysisError, InputError, NotAllowedNow
from backchannel.messages import t_
from backchannel.model.results import SettlementRule
from backchannel.services import access
from backchannel.services.access import Actor
from backchannel.services.dialogues import title_of
from backchannel.services.evaluations import read_inputs
from backchannel.services.platform import Platform
from backchannel.services.robustness import RobustnessResult, robustness_of_round
from backchannel.storage import repo
from backchannel.storage.tables import DialogueRow, EvaluationRow, RoundRow

NOISE_POINTS = (1, 20)
"""The least and the most points (±) a check may move every rating."""
SAMPLE_COUNTS = (50, 1000)
"""The fewest and the most samples a check may draw."""
DEFAULT_RULE, DEFAULT_NOISE, DEFAULT_SAMPLES = SettlementRule.NASH, 5, 200
"""What the page's form offers first."""
SEED = 1
"""The seed of every check: the same request on the same evaluation gives the same figures."""


@dataclass(frozen=True)
class RobustnessCheck:
    """The answer of :func:`check`: the evaluation checked and the sweep's result."""

    evaluation_id: str
    round_number: int
    result: RobustnessResult


def check_settings(noise: int, samples: int) -> None:
    """InputError unless ``noise`` and ``samples`` are within what a check allows."""
    low, high = NOISE_POINTS
    if not low <= noise <= high:
        raise InputError(
            t_(
                "the noise must be {low} to {high} points, not {value}",
                low=low,
                high=high,
                value=noise,
            ),
            hint=t_("ratings are rough to a few points; try 5"),
        )
    low, high = SAMPLE_COUNTS
    if not low <= samples <= high:
        raise InputError(
            t_(
                "the samples must number {low} to {high}, not {value}",
                low=low,
                high=high,
                value=samples,
            ),
            hint=t_("200 samples give shares to within a few percent"),
        )


def check(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    evaluation_id: str,
    *,
    rule: SettlementRule,
    noise: int,
    samples: int,
) -> RobustnessCheck:
    """Sweep perturbations of the ratings an evaluation read (facilitator only).

    Parameters
    ----------
    platform, actor, dialogue_id:
        Who asks, in which dialogue.
    evaluation_id:
        The evaluation whose inputs are perturbed.
    rule:
        The bargaining rule whose recommendation is tested.
    noise:
        The most every rating moves, in points (:data:`NOISE_POINTS`).
    samples:
        How many perturbations to solve (:data:`SAMPLE_COUNTS`), in this process (one
        worker), each solve within the platform's evaluation time limit.

    Raises
    ------
    NotFound
        Not the facilitator of the dialogue, or no such evaluation in it.
    InputError
        Noise or samples out of range.
    NotAllowedNow
        An evaluation made before its inputs were kept.
    AnalysisError
        No package (nor partial deal) respects every red line: nothing to test.
    """
    check_settings(noise, samples)
    with platform.view() as s:
        place = access.facilitator(s, actor, dialogue_id)
        row = access.owned(s, place, EvaluationRow, evaluation_id)
        keys = platform.keys(s, dialogue_id)
        inputs = read_inputs(keys, row)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        found = repo.get(s, RoundRow, row.round_id)
        assert dialogue is not None and found is not None
        title, number = title_of(keys, dialogue), found.number
    if inputs is None:
        raise NotAllowedNow(
            t_("this evaluation was made before the inputs of evaluations were kept"),
            hint=t_("check the robustness of a later evaluation"),
        )
    try:
        result = robustness_of_round(
            inputs.agenda,
            inputs.sides,
            title,
            rule=rule,
            noise=noise,
            samples=samples,
            seed=SEED,
            workers=1,
            time_limit=platform.settings.evaluation_time_limit,
        )
    except AnalysisError:
        raise AnalysisError(
            t_("no package respects every red line in this evaluation: there is nothing to test"),
            hint=t_("the robustness of a recommendation needs a recommendation"),
        ) from None
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        platform.log(
            s,
            "robustness.checked",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=evaluation_id,
            audience="all",
            detail={"round": number, "rule": rule.value, "noise": noise, "samples": samples},
        )
    return RobustnessCheck(evaluation_id, number, result)
