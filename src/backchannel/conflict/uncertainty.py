"""Stability under preference uncertainty (after Li, Hipel, Kilgour & Fang 2004,
"Preference uncertainty in the graph model for conflict resolution", IEEE SMC-A 34(4)).

A decision maker may leave pairs of states *unranked*. A *completion* decides each
unranked pair of each decision maker on its own, as better, worse or equal, while every
other pair keeps the order of the payoffs; no transitivity is required. A coalition's
preference is built from its members' completed ones as usual (every member gains).
:func:`analyze_uncertain` reports, per solution concept, two exact readings:

* **robust**: the states stable under *every* completion; the robust equilibria are the
  states that are an equilibrium under every completion;
* **possible**: the states stable under *some* completion; a possible equilibrium is a
  state that *one* completion makes stable for every mover at once.

Why they are exact. Whether ``s`` is stable for mover ``i`` depends on ``i``'s preference
only through "is t better than s" (its improvements from ``s``, the ends of sanctions,
SMR's countermoves, SIM's outcomes), so only ``i``'s members' pairs that contain ``s``
matter to ``i``. The other movers enter only through their moves (GMR, SMR) or their
improvements (SEQ, SIM, SEQ&SIM). Every concept is monotone: stability grows with the
others' improvements and shrinks as more states are better than ``s`` for ``i``.

* Robust, every concept (the ``"robust"`` reading of
  :class:`~backchannel.conflict.reachability.Game`): the focal mover reads each unranked
  pair ``{s, t}`` as "t better", every other mover reads its pairs as ties. For each
  state this is one completion (the focal mover's members and the others are different
  decision makers, and the focal mover's pairs without ``s`` do not matter), and it is
  the least favourable one: the most focal improvements, the fewest sanction ends, and
  the fewest opponents' improvements (a tie drops both moves of a pair, any orientation
  keeps one). So robust stability is stability under it. Robust equilibria are the
  conjunction over movers: "for every completion and every mover" is "for every mover
  and every completion".
* Possible, Nash, GMR, SMR: the opponents' preferences play no part, and the tie
  reading is the most favourable completion for every mover at once, so it gives both
  the possibly stable states and the possible equilibria.
* Possible, SEQ, SIM, SEQ&SIM (:mod:`backchannel.conflict.possible`): a sanction may
  need an opponent's improvement that only an orientation of its unranked pair creates,
  and a pair can be oriented one way only. The tie reading (a completion) is a lower
  bound, the optimistic reading (the other movers' pairs improve both ways) an upper
  bound; the states in between are decided by enumerating the orientations of the pairs
  that bear on them, per mover, and for the equilibria jointly (a decision maker's pairs
  count for its own stability and for its sanctions against the others). At most
  :data:`~backchannel.conflict.possible.MAX_PAIRS` pairs per state are enumerated;
  beyond that :class:`~backchannel.errors.AnalysisError` names the state.

Limited-move and non-myopic stability are not defined here for unranked pairs and raise
:class:`~backchannel.errors.AnalysisError`.
"""

from __future__ import annotations

from backchannel.conflict.analysis import analyze_uncertain

__all__ = ["analyze_uncertain"]
