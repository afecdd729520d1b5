"""The log a page at a time: numbering, paging through, and the API and page views."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backchannel.errors import InputError
from backchannel.services import audit_log, positions
from backchannel.services.access import Actor
from conftest import World

from .conftest import Browserless, position_a, position_b


def _fill(world: World, saves: int) -> None:
    """``saves`` positions saved by each side (each save is one log entry for that side)."""
    p, d = world.platform, world.dialogue_id
    for k in range(saves):
        positions.save_position(p, world.actors["a1"], d, position_a(world, note=f"a{k}"))
        positions.save_position(p, world.actors["b1"], d, position_b(world, note=f"b{k}"))


def _pages(world: World, actor: Actor, limit: int) -> list[list[int]]:
    """Every page of ``actor``'s log, following ``before`` from the last entry."""
    pages, before = [], None
    while True:
        page = audit_log.entries(
            world.platform, actor, world.dialogue_id, limit=limit, before=before
        )
        if not page:
            return pages
        pages.append([e.seq for e in page])
        before = page[-1].seq


@pytest.mark.parametrize("who", ["facilitator", "a1", "b1", "observer"])
def test_paging_through_gives_the_whole_log_once_in_order(world: World, who: str) -> None:
    _fill(world, 7)
    actor = world.actors[who]
    whole = [e.seq for e in audit_log.entries(world.platform, actor, world.dialogue_id)]
    pages = _pages(world, actor, limit=4)
    assert [n for page in pages for n in page] == whole
    assert all(len(page) == 4 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 4
    assert whole == sorted(whole, reverse=True) and len(set(whole)) == len(whole)


def test_a_side_pages_by_its_own_numbers_without_gaps(world: World) -> None:
    _fill(world, 5)
    a1 = world.actors["a1"]
    whole = audit_log.entries(world.platform, a1, world.dialogue_id)
    assert [e.seq for e in whole] == list(range(len(whole), 0, -1))
    page = audit_log.entries(world.platform, a1, world.dialogue_id, limit=3, before=len(whole) - 1)
    assert [e.seq for e in page] == [len(whole) - 2, len(whole) - 3, len(whole) - 4]
    assert page == whole[2:5]  # the same entries, the same numbers, as in the whole log


def test_the_facilitator_pages_by_global_sequence_numbers(world: World) -> None:
    _fill(world, 3)
    f = world.actors["facilitator"]
    whole = audit_log.entries(world.platform, f, world.dialogue_id)
    middle = whole[len(whole) // 2].seq
    page = audit_log.entries(world.platform, f, world.dialogue_id, limit=2, before=middle)
    assert page == [e for e in whole if e.seq < middle][:2]


def test_a_page_that_makes_no_sense_is_refused(world: World) -> None:
    a1 = world.actors["a1"]
    for bad in ({"limit": 0}, {"before": 0}, {"limit": -3}):
        with pytest.raises(InputError, match="at least 1"):
            audit_log.entries(world.platform, a1, world.dialogue_id, **bad)  # type: ignore[arg-type]


def test_the_api_returns_a_hundred_entries_and_pages_with_before(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    _fill(world, 60)  # 60 entries for side A, more than 100 for the facilitator
    d = world.dialogue_id
    f = clients("facilitator").client
    first = f.get(f"/api/v1/dialogues/{d}/log").json()
    assert len(first) == audit_log.LOG_PAGE
    rest = f.get(f"/api/v1/dialogues/{d}/log", params={"before": first[-1]["seq"]}).json()
    whole = audit_log.entries(world.platform, world.actors["facilitator"], d)
    assert [e["seq"] for e in first + rest] == [e.seq for e in whole]
    a1 = clients("a1").client
    two = a1.get(f"/api/v1/dialogues/{d}/log", params={"limit": 2, "before": 10}).json()
    assert [e["seq"] for e in two] == [9, 8]
    newest = a1.get(f"/api/v1/dialogues/{d}/log", params={"limit": 2}).json()
    assert [(e["action"], e["mine"]) for e in newest] == [("position.saved", True)] * 2


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=ten", "before=0"])
def test_the_api_explains_a_bad_page(
    world: World, clients: Callable[[str], Browserless], query: str
) -> None:
    response = clients("a1").client.get(f"/api/v1/dialogues/{world.dialogue_id}/log?{query}")
    assert response.status_code == 422, response.text
    assert ("limit" if "limit" in query else "before") in response.text


def test_the_log_page_links_to_older_entries(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    _fill(world, 60)
    d = world.dialogue_id
    f = clients("facilitator").client
    whole = audit_log.entries(world.platform, world.actors["facilitator"], d)
    newest = f.get(f"/d/{d}/log")
    assert newest.status_code == 200
    oldest_shown = whole[audit_log.LOG_PAGE - 1].seq
    assert f'href="?before={oldest_shown}"' in newest.text
    assert f"<td>{whole[audit_log.LOG_PAGE].seq}</td>" not in newest.text
    older = f.get(f"/d/{d}/log", params={"before": oldest_shown})
    assert f"<td>{whole[audit_log.LOG_PAGE].seq}</td>" in older.text
    assert "Older entries" not in older.text  # fewer than a page remain
