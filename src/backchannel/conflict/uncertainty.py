"""Stability under preference uncertainty (after Li, Hipel, Kilgour & Fang 2004,
"Preference uncertainty in the graph model for conflict resolution", IEEE SMC-A 34(4)).

A decision maker may leave pairs of states *unranked*. A *completion* decides each
unranked pair (better, worse or equal) while every other pair keeps the order of the
payoffs. We report two readings, both computed by the ordinary engine with a modified
"better than" relation (:class:`~backchannel.conflict.movers.Preference`):

* **robust** (stable under every completion): for the focal mover an unranked pair
  counts as an improvement whichever way it moves, and an unranked state never ends a
  sanction; for every other mover an unranked pair is not an improvement. This is the
  least favourable completion for stability at every step (all concepts are monotone:
  fewer focal improvements, more sanctioning moves and more safe states only add
  stability), so a robustly stable state is stable under every completion.
* **possible** (stable under some completion): every unranked pair is read as a tie,
  i.e. not an improvement, for everybody. This is itself a completion, so a possibly
  stable state is stable under at least that completion.

Hence robust stable states are possible stable states. Use :func:`analyze_uncertain`.
"""

from __future__ import annotations

from backchannel.conflict.analysis import analyze_uncertain

__all__ = ["analyze_uncertain"]
