"""The public red lines of absent stakeholders, which every seat of a dialogue may read.

An absent stakeholder is not at the table: the facilitator enters the red lines it has
stated in public (:mod:`backchannel.services.positions`), and every evaluation counts
them as stated. Being public, they are shown to every seat; nothing else of what the
facilitator entered for it (a note) is.
"""

from __future__ import annotations

from backchannel.messages import Message
from backchannel.model.dialogue import IfThen, Unacceptable, firm_words, prune
from backchannel.services import access
from backchannel.services.access import Actor
from backchannel.services.dialogues import read_agenda
from backchannel.services.platform import Platform
from backchannel.services.positions import read_position
from backchannel.storage import repo
from backchannel.storage.tables import DialogueRow


def stated_red_lines(
    platform: Platform, actor: Actor, dialogue_id: str
) -> dict[str, list[Message]]:
    """Per absent stakeholder (its delegation id), its red lines in the current round, in
    words with their firmness; an absent stakeholder with none maps to an empty list."""
    with platform.view() as s:
        access.seat(s, actor, dialogue_id)
        absent = [d for d in repo.delegations(s, dialogue_id) if d.role == "absent"]
        found = repo.rounds(s, dialogue_id)
        if not absent:
            return {}
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        keys = platform.keys(s, dialogue_id)
        agenda = read_agenda(keys, dialogue)
        out: dict[str, list[Message]] = {}
        for d in absent:
            row = repo.position(s, found[-1].id, d.id) if found else None
            if row is None:
                out[d.id] = []
                continue
            position = prune(agenda, read_position(keys, row))
            items: list[Unacceptable | IfThen] = [*position.unacceptable, *position.rules]
            out[d.id] = [firm_words(agenda, i) for i in items]
        return out
