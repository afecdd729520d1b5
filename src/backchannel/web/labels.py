"""What the pages call the things the services name by code: the log's actions, the
firmness of a red line, the state of a round, the role of a seat.

Each label is a :class:`~backchannel.messages.Message`, shown in the page's language; an
action without a label (one added later) shows its code, dots as spaces.
"""

from __future__ import annotations

from collections.abc import Mapping

from backchannel.messages import Message, t_, verbatim
from backchannel.model.dialogue import FIRMNESS_WORDS

LOG_ACTIONS: Mapping[str, Message] = {
    "dialogue.created": t_("dialogue created"),
    "dialogue.mfa_required": t_("two-factor sign-in required of every seat"),
    "dialogue.mfa_not_required": t_("two-factor sign-in no longer required"),
    "agenda.changed": t_("agenda changed"),
    "delegation.added": t_("delegation added"),
    "member.added": t_("member added"),
    "invitation.created": t_("invitation created"),
    "invitation.revoked": t_("invitation revoked"),
    "round.opened": t_("round opened"),
    "round.locked": t_("round locked"),
    "round.evaluated": t_("round evaluated"),
    "robustness.checked": t_("robustness of an evaluation checked"),
    "round.draft": t_("round unlocked"),
    "position.saved": t_("position saved"),
    "finding.released": t_("finding released"),
    "text.created": t_("negotiating text drafted"),
    "text.revised": t_("new version of a negotiating text"),
    "text.responded": t_("responses to a negotiating text"),
    "text.released": t_("responses to a negotiating text released"),
    "meeting.scheduled": t_("meeting scheduled"),
    "meeting.changed": t_("meeting changed"),
    "meeting.cancelled": t_("meeting cancelled"),
    "record.written": t_("meeting record written"),
    "record.confirmed": t_("meeting record confirmed"),
    "record.changes_asked": t_("changes to the meeting record asked for"),
    "nonpaper.circulated": t_("non-paper circulated"),
    "nonpaper.expired": t_("non-paper expired and destroyed"),
    "escalation.saved": t_("escalation model saved"),
    "readout.issued": t_("readout issued"),
    "node.registered": t_("node registered"),
    "node.replaced": t_("node's certificate replaced (its old token revoked)"),
    "blind.overlap": t_("the facilitator asked the nodes for the per-issue overlap"),
    "blind.exists": t_("the facilitator asked the nodes whether an admissible package exists"),
    "blind.redlines": t_(
        "the facilitator asked the nodes whether the red lines and conditions leave a package"
    ),
    "blind.nash": t_("the facilitator asked the nodes for the recommended package (Nash)"),
    "blind.random": t_("the facilitator asked the nodes for a fair random package"),
    "blind.opened": t_("the nodes opened the finding asked for"),
    "blind.failed": t_("the nodes' computation failed: nothing was opened"),
}
"""The label of each action a dialogue's log shows."""


def log_action(action: str) -> Message:
    """The label of a log entry's action."""
    return LOG_ACTIONS.get(action) or verbatim(action.replace(".", " "))


CODES: Mapping[str, Message] = {
    **FIRMNESS_WORDS,
    "draft": t_("draft"),
    "locked": t_("locked"),
    "evaluated": t_("evaluated"),
    "disclosed": t_("disclosed"),
    "facilitator": t_("facilitator"),
    "member": t_("member"),
    "observer": t_("observer"),
    "serving official": t_("serving official"),
    "former official": t_("former official"),
    "expert": t_("expert"),
}
"""The label of each firmness, round state, role and track."""


def label(code: str) -> Message:
    """The label of a firmness, a round state, a role or a track (its code when it has
    none)."""
    return CODES.get(code) or verbatim(code)
