"""Run a blind evaluation on this machine: one OS process per party, over loopback.

The case is split per side (:func:`split_case`): each delegation's process is given a
file holding only the public agenda, the absent stakeholders' public red lines and its
own delegation; each helper's process is given no side at all. The processes find each
other on free loopback ports and run :mod:`backchannel.blind.node`; what they opened
(identical at every party) comes back with each party's measurements.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.blind.plan import Plan
from backchannel.blind.protocol import Opened
from backchannel.blind.session import Credentials, party_environment, plan_job, stated_error
from backchannel.blind.warm import PartyFailed, PortTaken, run_parties, shared_server
from backchannel.errors import AnalysisError
from backchannel.model.case import Case, PartyRole

DEFAULT_TIMEOUT = 600.0

PORT_ATTEMPTS = 3
"""Runs tried when another program takes a free port between its choice and its use."""


class _PortTaken(Exception):
    """A party could not listen on its port."""


@dataclass(frozen=True)
class PartyReport:
    """One party's own measurements of a run."""

    index: int
    seconds: float
    bytes_sent: dict[str, int]
    peak_rss_bytes: int


@dataclass(frozen=True)
class BlindResult:
    """The opened finding of a blind evaluation and how the run went."""

    plan: Plan
    opened: Opened
    wall_seconds: float
    parties: tuple[PartyReport, ...]


def split_case(case: Case) -> list[Case]:
    """One case per delegation: the agenda, the absent stakeholders and that delegation."""
    absent = [p for p in case.parties if p.role is PartyRole.ABSENT]
    return [
        case.model_copy(update={"parties": [*absent, party]})
        for party in case.parties
        if party.role is PartyRole.DELEGATION
    ]


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    for process in processes:
        process.wait()


def _wait(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        codes = [p.poll() for p in processes]
        failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            _stop(processes)
            process = processes[failed[0]]
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            if "address already in use" in stderr.lower():
                raise _PortTaken
            raise AnalysisError(
                f"blind party {failed[0]} stopped (exit {codes[failed[0]]}): "
                f"{stated_error(stderr)}; "
                "nothing was opened",
            )
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            _stop(processes)
            raise AnalysisError(
                f"the blind evaluation did not finish within {timeout:g} s; nothing was opened",
                hint="ask for the per-issue check (--finding overlap) or a smaller agenda",
            )
        time.sleep(0.02)


def _jobs(
    sides: list[Case], plan: Plan, timeout: float, credentials: list[Credentials] | None
) -> list[dict[str, Any]]:
    """Every party's job on fresh loopback ports; a delegation's holds its own side only."""
    ports = _free_ports(plan.parties)
    jobs = []
    for index in range(plan.parties):
        side = sides[index] if index < plan.delegations else None
        job = plan_job(plan, index, side, timeout)
        if credentials is None:
            job["ports"] = ports
        else:
            job["parties"] = [
                {"host": "127.0.0.1", "port": port, "certificate": c.certificate}
                for port, c in zip(ports, credentials, strict=True)
            ]
            job["tls"] = {
                "cert_file": credentials[index].cert_file,
                "key_file": credentials[index].key_file,
            }
        jobs.append(job)
    return jobs


def _attempt(
    sides: list[Case], plan: Plan, timeout: float, credentials: list[Credentials] | None
) -> list[dict[str, Any]]:
    """One run of every party, each a fresh interpreter, on fresh ports; what each wrote.

    Each party's job, its side included, reaches it on its standard input: no side is
    written to a file.
    """
    with tempfile.TemporaryDirectory(prefix="backchannel-blind-") as folder:
        root = Path(folder)
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for job in _jobs(sides, plan, timeout, credentials):
                process = subprocess.Popen(
                    [sys.executable, "-m", "backchannel.blind.node", "-"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=root,
                    env=party_environment(),
                )
                processes.append(process)
                assert process.stdin is not None
                try:
                    process.stdin.write(json.dumps(job).encode("utf-8"))
                    process.stdin.close()
                except BrokenPipeError:
                    pass  # the party stopped already: _wait reports why
            _wait(processes, timeout)
            return [
                json.loads(p.stdout.read().decode("utf-8").strip().splitlines()[-1])
                for p in processes
                if p.stdout is not None
            ]
        finally:
            _stop(processes)


def warm_up() -> None:
    """Start this process's party server now (it imports in the background), so that the
    first warm run finds it ready."""
    shared_server(party_environment())


def _attempt_warm(
    sides: list[Case], plan: Plan, timeout: float, credentials: list[Credentials] | None
) -> list[dict[str, Any]]:
    """One run of every party, each forked from the warm party server; what each answered."""
    try:
        server = shared_server(party_environment())
        return run_parties(server, _jobs(sides, plan, timeout, credentials), timeout)
    except PortTaken:
        raise _PortTaken from None
    except PartyFailed as failed:
        raise AnalysisError(
            f"blind party {failed.index} stopped: {failed.reason}; nothing was opened"
        ) from None
    except TimeoutError:
        raise AnalysisError(
            f"the blind evaluation did not finish within {timeout:g} s; nothing was opened",
            hint="ask for the per-issue check (--finding overlap) or a smaller agenda",
        ) from None


def run_blind(
    case: Case,
    plan: Plan,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    credentials: list[Credentials] | None = None,
    warm: bool = False,
) -> BlindResult:
    """Start one process per party on loopback, run ``plan`` and return what was opened.

    Parameters
    ----------
    case:
        The whole case; each delegation's process receives only its own side of it.
    plan:
        The checked plan (:func:`backchannel.blind.plan.make_plan`).
    timeout:
        Seconds before every process is stopped and the evaluation fails.
    credentials:
        One certificate and key per party: the parties then connect over TLS with every
        certificate pinned to its index, as real nodes do (:mod:`backchannel.blind.tls`);
        without them, over plain loopback TCP.
    warm:
        Fork every party from this process's party server (:mod:`backchannel.blind.warm`,
        started at the first warm run with MPyC and the node imported) rather than start
        a fresh interpreter per party: a run then costs no import.

    Raises
    ------
    AnalysisError
        A party stopped or the time ran out; nothing was opened.
    """
    sides = split_case(case)
    started = time.perf_counter()
    for attempt in range(PORT_ATTEMPTS):
        try:
            attempt_once = _attempt_warm if warm else _attempt
            docs = attempt_once(sides, plan, timeout, credentials)
            break
        except _PortTaken:
            if attempt == PORT_ATTEMPTS - 1:
                raise AnalysisError(
                    f"another program took the loopback ports {PORT_ATTEMPTS} times; "
                    "nothing was opened",
                    hint="run the evaluation again",
                ) from None
    wall = time.perf_counter() - started
    first = docs[0]
    opened = Opened(
        overlap=None if first["overlap"] is None else tuple(first["overlap"]),
        exists=first["exists"],
        package=None if first["package"] is None else tuple(first["package"]),
    )
    if any(d[k] != first[k] for d in docs for k in ("overlap", "exists", "package")):
        raise AnalysisError("the blind parties opened different findings; nothing is reported")
    reports = tuple(
        PartyReport(i, d["seconds"], d["bytes_sent"], d["peak_rss_bytes"])
        for i, d in enumerate(docs)
    )
    return BlindResult(plan, opened, wall, reports)
