"""One party of a blind evaluation, as its own OS process.

``python -m backchannel.blind.node JOB`` reads the job (a JSON file, or ``-`` for the
standard input: this party's index, every party's address, the finding, the public agenda
sizes, the options enumerated after public pruning and, for a delegation, its own side of
the case, as a file's path or inline), derives its private vectors from its side alone,
runs the MPyC computation with the other parties and writes what was opened, with its own
measurements (seconds, CPU seconds, when it was ready and connected, bytes sent to each
peer, peak memory), to the job's ``result`` path, or to the standard output when it has none.

A job with ``tls`` connects the parties over TLS with every certificate pinned to its index
(:mod:`backchannel.blind.tls`); without it, over plain loopback TCP (MPyC's own start).
A party that fails prints ``error: <reason>`` on the standard error and exits with code 2.

``python -m backchannel.blind.node --serve`` is the warm party server
(:mod:`backchannel.blind.warm`): it imports what a party needs once, then forks one party
per request on its standard input (a Unix socket), each of which runs a job as above,
received and answered on its own socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from backchannel.blind.local import component_inputs, side_inputs
from backchannel.blind.plan import Finding
from backchannel.blind.protocol import Opened, evaluate
from backchannel.blind.session import SECRET_VARIABLES
from backchannel.blind.warm import PID_BYTES
from backchannel.errors import BackchannelError
from backchannel.formats.case_data import parse_case
from backchannel.formats.cases import load_problem
from backchannel.model.compile import compile_case
from backchannel.model.problem import Problem

DEFAULT_CONNECT_SECONDS = 600.0
"""How long a party waits for the others to connect, unless the job says otherwise."""


def _runtime(index: int, addresses: list[tuple[str, int]]) -> Any:
    """MPyC's runtime for this party (MPyC reads its options from ``sys.argv`` on import).

    ``--mix32-64bit`` makes MPyC send arrays of shares as fixed-length field elements
    rather than pickles, so every message's size is independent of the values shared.
    """
    argv = [sys.argv[0], "--no-log", "--mix32-64bit"]
    for j, (host, port) in enumerate(addresses):
        argv += ["-P", f":{port}" if j == index else f"{host}:{port}"]
    sys.argv = argv
    if "mpyc.runtime" in sys.modules:
        # Forked from a warm parent that imported MPyC: its runtime is the parent's
        # (one party, no options); set up this party's from the options just given.
        import mpyc.runtime

        # The parent's event loop (its epoll instance) would be shared with the parent's
        # other children: this party gets a loop of its own.
        asyncio.set_event_loop(asyncio.new_event_loop())
        mpyc.runtime.mpc = mpyc.runtime.setup()
        return mpyc.runtime.mpc
    from mpyc.runtime import mpc

    return mpc


def _side(job: dict[str, Any]) -> Problem | None:
    if job.get("side_doc") is not None:
        case = parse_case(job["side_doc"], "<this node's position>")
        return compile_case(case, "<this node's position>")
    if job.get("side") is not None:
        return load_problem(Path(job["side"]))[1]
    return None


def _addresses(job: dict[str, Any]) -> list[tuple[str, int]]:
    if "parties" in job:
        return [(str(p["host"]), int(p["port"])) for p in job["parties"]]
    return [("127.0.0.1", int(port)) for port in job["ports"]]


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run this party's part of a job; the opened finding and this party's measurements."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    finding = Finding(job["finding"])
    components = tuple(tuple(int(i) for i in c) for c in job["components"])
    kept = tuple(tuple(int(o) for o in k) for k in job.get("kept", []))
    own = None
    problem = _side(job)
    if problem is not None:
        if finding is Finding.REDLINES:
            own = component_inputs(problem, components)
        else:
            packages = finding is not Finding.OVERLAP
            pairs = finding is Finding.RANDOM
            own = side_inputs(
                problem, packages=packages, scale=job["scale"], pairs=pairs, kept=kept
            )
    mpc = _runtime(int(job["index"]), _addresses(job))
    tls = job.get("tls")
    timeout = float(job.get("timeout", DEFAULT_CONNECT_SECONDS))

    async def compute() -> Opened:
        return await evaluate(
            mpc,
            finding,
            tuple(int(s) for s in job["sizes"]),
            int(job["delegations"]),
            own,
            job["scale"],
            components,
            int(job["chunk"]),
        )

    marks: dict[str, float] = {}

    async def session() -> tuple[Opened, dict[str, int]]:
        marks["runtime"] = time.perf_counter() - started
        if tls is None:
            await mpc.start()
            marks["connected"] = time.perf_counter() - started
            opened = await compute()
        else:
            from backchannel.blind import tls as transport
            from backchannel.blind.pinning import Peer

            peers = [
                Peer(j, str(p["host"]), int(p["port"]), str(p["certificate"]))
                for j, p in enumerate(job["parties"])
            ]
            connect = float(job.get("connect_timeout", DEFAULT_CONNECT_SECONDS))
            links = await transport.connect(mpc, peers, tls["cert_file"], tls["key_file"], connect)
            marks["connected"] = time.perf_counter() - started
            opened = await transport.guarded(links, compute(), timeout)
            transport.finished(links)
        sent = {
            str(peer.pid): int(peer.protocol.nbytes_sent)
            for peer in mpc.parties
            if peer.pid != mpc.pid
        }
        await mpc.shutdown()
        return opened, sent

    opened, sent = mpc.run(session())
    if kept and opened.package is not None:  # from the enumerated options to the agenda's
        opened = replace(opened, package=tuple(kept[i][o] for i, o in enumerate(opened.package)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "overlap": None if opened.overlap is None else list(opened.overlap),
        "exists": opened.exists,
        "package": None if opened.package is None else list(opened.package),
        "seconds": time.perf_counter() - started,
        "marks": marks,
        "bytes_sent": sent,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
    }


ORPHAN_CHECK_SECONDS = 0.5
"""How often a party checks that the process that started it is still there."""


def _stop_when_orphaned() -> None:
    """Exit at once if the process that started this party ends (killed, say): the other
    parties then see the connection lost and fail with nothing opened."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os._exit(3)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def warm_up() -> None:
    """Import everything a party needs (a warm party server calls this once)."""
    from mpyc import runtime

    from backchannel.blind import tls  # noqa: F401

    runtime.mpc._loop.close()  # each forked party makes its own (see _runtime)
    asyncio.set_event_loop(None)


def forked_job(job: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Run a job in a party forked from a warm server (:mod:`backchannel.blind.warm`):
    what to answer and the exit code (``{"result": ...}``, or ``{"error": reason,
    "port_taken": bool, "exit": code}``). The passphrases leave its environment first."""
    for name in SECRET_VARIABLES:
        os.environ.pop(name, None)
    _stop_when_orphaned()
    try:
        return {"result": run_job(job)}, 0
    except BackchannelError as error:
        return {"error": "; ".join(error.lines()), "port_taken": False, "exit": 2}, 2
    except Exception as error:  # a port taken, above all: the reason goes back
        taken = "address already in use" in str(error).lower()
        reason = f"{type(error).__name__}: {error}"
        return {"error": reason, "port_taken": taken, "exit": 1}, 1


def _child(conn: socket.socket) -> None:
    """The forked party: read the job to the end of the stream, run it, answer, exit."""
    chunks = []
    while data := conn.recv(1 << 16):
        chunks.append(data)
    job = json.loads(b"".join(chunks).decode("utf-8"))
    del chunks
    answer, code = forked_job(job)
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(answer).encode("utf-8"))
        conn.shutdown(socket.SHUT_WR)
    os._exit(code)


def serve(control: socket.socket) -> None:
    """Fork one party per request until the control socket closes."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children are reaped at once
    while True:
        message, fds, _flags, _address = socket.recv_fds(control, 1, 1)
        if not message:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _child(socket.socket(fileno=fds[0]))
            finally:
                os._exit(1)
        os.close(fds[0])
        control.sendall(pid.to_bytes(PID_BYTES, "little"))


def main() -> None:
    """Entry point of the node process (``--serve``: of the warm party server)."""
    if sys.argv[1:] == ["--serve"]:
        sys.argv = [sys.argv[0], "--no-log"]  # MPyC reads its options from sys.argv on import
        warm_up()
        serve(socket.socket(fileno=sys.stdin.fileno()))
        return
    _stop_when_orphaned()
    source = sys.argv[1]
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    job = json.loads(text)
    del text
    try:
        result = run_job(job)
    except BackchannelError as error:
        for line in error.lines():
            print(f"error: {line}", file=sys.stderr)
        sys.stderr.flush()
        sys.exit(2)
    if job.get("result"):
        Path(job["result"]).write_text(json.dumps(result), encoding="utf-8")
    else:
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
