"""What the pages call the things the services name by code: the log's actions.

Each label is a :class:`~backchannel.messages.Message`, shown in the page's language; an
action without a label (one added later) shows its code, dots as spaces.
"""

from __future__ import annotations

from collections.abc import Mapping

from backchannel.messages import Message, t_, verbatim

LOG_ACTIONS: Mapping[str, Message] = {
    "dialogue.created": t_("dialogue created"),
    "dialogue.mfa_required": t_("two-factor sign-in required of every seat"),
    "dialogue.mfa_not_required": t_("two-factor sign-in no longer required"),
    "agenda.changed": t_("agenda changed"),
    "delegation.added": t_("delegation added"),
    "member.added": t_("member added"),
    "invitation.created": t_("invitation created"),
    "round.opened": t_("round opened"),
    "round.locked": t_("round locked"),
    "round.evaluated": t_("round evaluated"),
    "round.draft": t_("round unlocked"),
    "position.saved": t_("position saved"),
    "finding.released": t_("finding released"),
    "meeting.scheduled": t_("meeting scheduled"),
    "meeting.changed": t_("meeting changed"),
    "meeting.cancelled": t_("meeting cancelled"),
    "record.written": t_("meeting record written"),
    "record.confirmed": t_("meeting record confirmed"),
    "record.changes_asked": t_("changes to the meeting record asked for"),
    "nonpaper.circulated": t_("non-paper circulated"),
    "nonpaper.expired": t_("non-paper expired and destroyed"),
}
"""The label of each action a dialogue's log shows."""


def log_action(action: str) -> Message:
    """The label of a log entry's action."""
    return LOG_ACTIONS.get(action) or verbatim(action.replace(".", " "))
