"""A run that fails opens nothing: a party that stops, or the time running out; with
fresh party processes and with parties forked from the warm party server, which never holds
a side itself."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from backchannel.blind import run
from backchannel.blind.plan import Finding, make_plan
from backchannel.blind.run import run_blind, split_case
from backchannel.blind.session import party_environment
from backchannel.blind.warm import PartyFailed, run_parties, shared_server
from backchannel.errors import AnalysisError
from backchannel.model.case import Case

from .test_blind_transcript import FIRST


def test_each_side_holds_only_its_own_delegation() -> None:
    sides = split_case(FIRST)
    assert [[p.name for p in side.parties] for side in sides] == [["A"], ["B"]]
    assert all(side.issues == FIRST.issues for side in sides)


def test_a_party_that_stops_fails_the_run_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = tmp_path / "python"
    failing.write_text("#!/bin/sh\necho 'lost the connection' >&2\nexit 3\n", encoding="utf-8")
    failing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(failing))
    plan = make_plan(Finding.EXISTS, (3, 3), delegations=2, helpers=1)
    with pytest.raises(AnalysisError, match=r"stopped \(exit 3\): lost the connection.*nothing"):
        run_blind(FIRST, plan)


def test_the_time_running_out_stops_every_party() -> None:
    plan = make_plan(Finding.NASH, (3, 3), delegations=2, helpers=1)
    with pytest.raises(AnalysisError, match=r"did not finish within 0\.01 s; nothing was opened"):
        run_blind(FIRST, plan, timeout=0.01)


def test_ports_taken_by_another_program_are_chosen_again_then_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries = tmp_path / "tries"
    busy = tmp_path / "python"
    busy.write_text(
        f"#!/bin/sh\necho x >> {tries}\necho 'OSError: address already in use' >&2\nexit 1\n",
        encoding="utf-8",
    )
    busy.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(busy))
    plan = make_plan(Finding.OVERLAP, (3, 3), delegations=2, helpers=1)
    with pytest.raises(AnalysisError, match="took the loopback ports 3 times"):
        run_blind(FIRST, plan)
    assert len(tries.read_text(encoding="utf-8").split()) >= 3


# The warm path: every party forked from the party server (backchannel.blind.warm).


def test_warm_parties_open_what_fresh_ones_open() -> None:
    plan = make_plan(Finding.NASH, (3, 3), delegations=2, helpers=1)
    warm = run_blind(FIRST, plan, warm=True)
    assert warm.opened == run_blind(FIRST, plan).opened
    assert warm.opened.package is not None
    assert len(warm.parties) == 3


def test_a_warm_party_that_fails_stops_the_run_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jobs = run._jobs

    def spoiled(*args: Any) -> list[dict[str, Any]]:
        made = jobs(*args)
        made[1]["side_doc"] = {"title": "t", "issues": []}  # not a case this party can read
        return made

    monkeypatch.setattr(run, "_jobs", spoiled)
    plan = make_plan(Finding.EXISTS, (3, 3), delegations=2, helpers=1)
    with pytest.raises(AnalysisError, match=r"blind party 1 stopped: .*nothing was opened"):
        run_blind(FIRST, plan, warm=True, timeout=60)


def test_warm_parties_out_of_time_are_stopped() -> None:
    plan = make_plan(Finding.NASH, (3, 3), delegations=2, helpers=1)
    with pytest.raises(AnalysisError, match=r"did not finish within 0\.01 s; nothing was opened"):
        run_blind(FIRST, plan, timeout=0.01, warm=True)


def test_a_port_taken_under_warm_parties_is_chosen_again_then_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        tries: list[int] = []

        def ports(count: int) -> list[int]:
            tries.append(count)
            return [taken] * count

        monkeypatch.setattr(run, "_free_ports", ports)
        plan = make_plan(Finding.OVERLAP, (3, 3), delegations=2, helpers=1)
        with pytest.raises(AnalysisError, match="took the loopback ports 3 times"):
            run_blind(FIRST, plan, warm=True, timeout=60)
    assert tries == [3, 3, 3]


def test_a_party_server_that_was_killed_is_started_again() -> None:
    plan = make_plan(Finding.OVERLAP, (3, 3), delegations=2, helpers=1)
    server = shared_server(party_environment())
    server.process.kill()
    server.process.wait()
    assert run_blind(FIRST, plan, warm=True, timeout=60).opened.overlap == (True, True)
    assert shared_server(party_environment()) is not server
    with pytest.raises(PartyFailed, match="the party server stopped"):  # killed while in use
        run_parties(server, [{"index": 0}], 10)


def _memory(pid: int) -> bytes:
    """Every readable mapping of a process (its parent may read /proc/PID/mem)."""
    chunks = []
    with open(f"/proc/{pid}/maps", encoding="ascii") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except (OSError, OverflowError, ValueError):
                continue  # [vvar] and the like
    return b"".join(chunks)


def test_the_party_server_never_holds_a_side() -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    doc = FIRST.model_dump(mode="json", exclude_none=True)
    doc["parties"][1]["red_lines"] = [{"id": canary, "forbid": {"issue": "i1", "options": ["o2"]}}]
    case = Case.model_validate(doc)
    plan = make_plan(Finding.EXISTS, (3, 3), delegations=2, helpers=1)
    assert run_blind(case, plan, warm=True, timeout=60).opened.exists is True
    server = shared_server(party_environment())
    memory = _memory(server.process.pid)
    assert b"backchannel" in memory  # the memory was read: it holds the modules it imported
    assert canary.encode() not in memory
    assert canary.encode() in _memory(os.getpid())  # where the whole case is, it is found
