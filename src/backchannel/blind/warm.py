"""A warm party server: parties forked from one interpreter that imported everything once.

Starting a party as a fresh interpreter costs its imports (NumPy, MPyC, pydantic and the
node: about 0.6 s of CPU each), three to five times per run on one machine. The party
server is started once per process (``python -m backchannel.blind.node --serve``, with the
environment of a party, passphrases left out), imports what a party needs, and forks one
child per party asked for (:func:`backchannel.blind.node.serve`). It holds no side and no
job: each child receives its own job on its own socket after the fork, as a fresh party
receives it on its standard input, and answers on it (the opened finding and its
measurements, or why it failed). This module is the client's side; it imports no MPyC.

Protocol on the control socket (a Unix socket pair, the server's standard input): the
client sends one byte with a socket's descriptor attached; the server forks a child that
owns that socket and answers with the child's process id (8 bytes). The server ends when
the control socket closes (its client ended), and a child ends at once when its server
does (see :func:`backchannel.blind.node._stop_when_orphaned`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

PID_BYTES = 8
"""Size of the process id the server answers (little-endian)."""


class PortTaken(Exception):
    """A forked party could not listen on its port."""


@dataclass(frozen=True)
class PartyFailed(Exception):
    """A forked party stopped before opening anything, with its stated reason and exit code
    (-9 when it stopped without a word: killed, or lost)."""

    index: int
    reason: str
    code: int = -9


class Server:
    """The client's handle on a running party server."""

    def __init__(self, environment: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backchannel.blind.node", "--serve"],
            stdin=theirs.fileno(),  # the control socket is the server's standard input
            env=environment,
        )
        theirs.close()
        self.control = ours
        self.lock = threading.Lock()

    def alive(self) -> bool:
        """Whether the server still runs."""
        return self.process.poll() is None

    def fork(self) -> tuple[int, socket.socket]:
        """A new party: its process id and the socket to give it its job on."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self.lock:
                socket.send_fds(self.control, [b"f"], [theirs.fileno()])
                raw = b""
                while len(raw) < PID_BYTES:
                    data = self.control.recv(PID_BYTES - len(raw))
                    if not data:
                        raise OSError("the party server stopped")
                    raw += data
        finally:
            theirs.close()
        return int.from_bytes(raw, "little"), ours

    def close(self) -> None:
        """Stop the server (its children, if any, stop with it)."""
        self.control.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_servers: list[Server] = []
_servers_lock = threading.Lock()


def shared_server(environment: dict[str, str]) -> Server:
    """This process's party server, started at its first use (and again if it ended); it
    stops when this process ends."""
    with _servers_lock:
        if not _servers or not _servers[-1].alive():
            if _servers:
                _servers.pop().close()
            server = Server(environment)
            atexit.register(server.close)
            _servers.append(server)
        return _servers[-1]


def _kill(pidfd: int) -> None:
    """Stop a party by its process descriptor (never another process that reused its id)."""
    with contextlib.suppress(ProcessLookupError, OSError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)


def run_parties(server: Server, jobs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Fork one party per job and collect what each answered, in order.

    Raises
    ------
    PortTaken
        A party could not listen on its port.
    PartyFailed
        A party stopped with nothing opened (its reason, or "stopped without a word").
    TimeoutError
        The time ran out; every party was stopped.
    """
    started: dict[int, tuple[int, socket.socket]] = {}
    try:
        # The highest index first: a party listens for those of lower index and connects
        # to those of higher index, which then listen already (no retry, no wait).
        for index in reversed(range(len(jobs))):
            try:
                pid, conn = server.fork()
            except OSError:
                raise PartyFailed(index, "the party server stopped; it starts again") from None
            try:
                pidfd = os.pidfd_open(pid)
            except ProcessLookupError:
                conn.close()
                raise PartyFailed(index, "stopped without a word") from None
            started[index] = (pidfd, conn)
            try:
                conn.sendall(json.dumps(jobs[index]).encode("utf-8"))
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                raise PartyFailed(index, "stopped without a word") from None
        parties = [started[index] for index in range(len(jobs))]
        received: list[list[bytes]] = [[] for _ in parties]
        done = [False] * len(parties)
        deadline = time.monotonic() + timeout
        while not all(done):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            waiting = {conn.fileno(): i for i, (_, conn) in enumerate(parties) if not done[i]}
            ready, _, _ = select.select(list(waiting), [], [], min(left, 1.0))
            for fd in ready:
                i = waiting[fd]
                data = parties[i][1].recv(1 << 16)
                if data:
                    received[i].append(data)
                    continue
                done[i] = True
                answer = json.loads(b"".join(received[i]) or b"{}")
                if "result" not in answer:
                    if answer.get("port_taken"):
                        raise PortTaken
                    reason = answer.get("error", "stopped without a word")
                    raise PartyFailed(i, reason, int(answer.get("exit", -9)))
        return [json.loads(b"".join(r))["result"] for r in received]
    finally:
        for pidfd, conn in started.values():
            _kill(pidfd)  # a party that answered has ended already
            os.close(pidfd)
            conn.close()
