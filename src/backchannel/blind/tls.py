"""The parties' connections: TLS with every peer's certificate pinned to its index.

MPyC's own ``--ssl`` option reads one certificate authority from ``.config/mpyc_ca.crt``,
trusts every certificate it signed at every index, and learns a connecting party's index
from the first two bytes that party sends, never from its certificate. That is not
pinning, so this module replaces :meth:`mpyc.runtime.Runtime.start` (the rest of MPyC is
used as it is):

* party ``i`` listens for the parties ``j < i`` and connects to the parties ``j > i``, as
  MPyC does; each connection is TLS 1.2 or later with a certificate on both sides;
* a party trusts exactly the certificates the session lists for the other indices (each
  self-signed certificate is its own trust anchor) and no certificate authority;
* connecting to ``j``, it trusts only the certificate listed at ``j``; accepting a
  connection, it checks that the certificate presented is the one listed at the index the
  peer then claims (SHA-256 of the DER, compared in constant time), so a certificate listed
  at another index is refused too;
* any refused certificate, any handshake that fails, any connection lost before the
  computation ended, or the time running out fails the run (:class:`TransportFailure`,
  naming the index where it is known); nothing is opened after that.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import ssl
import time
from typing import Any

from backchannel.blind.pinning import Peer, TransportFailure, der_fingerprint, pem_fingerprint
from backchannel.messages import t_, t_n

HANDSHAKE_SECONDS = 30.0
"""The most a TLS handshake may take once a connection is open."""

REFUSAL_GRACE = 2.0
"""Seconds a listening party waits, after a handshake failed, before it fails the run."""

RETRY_SECONDS = 0.1
"""Pause between two attempts to reach a party that is not listening yet."""


def _context(purpose: int, cert_file: str, key_file: str, trusted: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(purpose)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # a certificate is pinned to an index, not to a name
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(cert_file, keyfile=key_file)
    context.load_verify_locations(cadata="".join(trusted))
    return context


class _Links:
    """The state of one party's connections: the first failure ends everything."""

    def __init__(self, loop: asyncio.AbstractEventLoop, peers: list[Peer], own: int) -> None:
        self.peers = {peer.index: peer for peer in peers}
        self.own = own
        self.failed: asyncio.Future[None] = loop.create_future()
        self.computing = True
        self.loop = loop

    def fail(self, error: TransportFailure) -> None:
        if not self.failed.done():
            self.failed.set_exception(error)

    def fail_soon(self, error: TransportFailure) -> None:
        """Fail after :data:`REFUSAL_GRACE`: other parties may be about to connect and find
        out for themselves which certificate is wrong."""
        self.loop.call_later(REFUSAL_GRACE, self.fail, error)

    def pinned(self, index: int, der: bytes | None) -> bool:
        peer = self.peers.get(index)
        if peer is None or index == self.own or der is None:
            return False
        return hmac.compare_digest(der_fingerprint(der), pem_fingerprint(peer.certificate))


def _presented(transport: Any) -> bytes | None:
    ssl_object = transport.get_extra_info("ssl_object")
    return None if ssl_object is None else ssl_object.getpeercert(binary_form=True)


@functools.cache
def _exchanger() -> Any:
    """MPyC's message exchanger, held to the certificate of its peer's index (MPyC is
    imported by the party process only)."""
    from mpyc.asyncoro import MessageExchanger

    class _Pinned(MessageExchanger):  # type: ignore[misc]
        """MPyC's message exchanger that holds a peer to the certificate of its index."""

        __slots__ = ("certificate", "early", "links")

        def __init__(self, runtime: Any, links: _Links, peer_pid: int | None = None) -> None:
            super().__init__(runtime, peer_pid)
            self.links = links
            self.early = bytearray()
            self.certificate: bytes | None = None

        def connection_made(self, transport: Any) -> None:
            self.certificate = _presented(transport)
            if self.peer_pid is not None and not self.links.pinned(self.peer_pid, self.certificate):
                transport.close()
                self.links.fail(_mismatch(self.peer_pid))
                return
            super().connection_made(transport)
            if self.early:
                early, self.early = bytes(self.early), bytearray()
                self.data_received(early)

        def data_received(self, data: bytes) -> None:
            if self.transport is None:  # decrypted before start_tls handed the connection over
                self.early.extend(data)
                return
            if self.peer_pid is None and len(self.bytes) + len(data) >= 2:
                claimed = int.from_bytes((bytes(self.bytes) + data)[:2], "little")
                again = claimed in self.links.peers and (
                    self.runtime.parties[claimed].protocol is not None
                )
                if (
                    claimed >= self.links.own
                    or again
                    or not self.links.pinned(claimed, self.certificate)
                ):
                    self.transport.close()
                    self.links.fail(
                        _mismatch(claimed)
                        if claimed in self.links.peers
                        else TransportFailure(
                            t_(
                                "a party claimed index {index}, which the session does not list "
                                "before this node's; nothing was opened",
                                index=claimed,
                            )
                        )
                    )
                    return
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.links.computing:
                reason = _reason(exc) if exc else "closed"
                if self.peer_pid is None or isinstance(exc, ssl.SSLError):
                    # closed before it said its index, or with a TLS alert: it refused us
                    self.links.fail_soon(_refused(self.links.own, reason))
                else:
                    self.links.fail(
                        TransportFailure(
                            t_(
                                "party {index} dropped out ({reason}); nothing was opened",
                                index=self.peer_pid,
                                reason=reason,
                            )
                        )
                    )
                return
            if self.peer_pid is not None:
                self.runtime.unset_protocol(self.peer_pid)

    return _Pinned


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError) and error.reason:
        return str(error.reason).replace("_", " ").lower()
    return str(error) or "connection closed"


def _mismatch(index: int) -> TransportFailure:
    return TransportFailure(
        t_(
            "the certificate of party {index} does not match the one the session lists at index "
            "{index}; this node refuses to compute and nothing was opened",
            index=index,
        ),
        hint=t_("check with the facilitator which certificate index {index} gave", index=index),
    )


def _refused(own: int, reason: str) -> TransportFailure:
    return TransportFailure(
        t_(
            "a party refused the TLS connection with this node (index {index}): {reason}; "
            "nothing was opened",
            index=own,
            reason=reason,
        ),
        hint=t_(
            "the parties may hold different session documents, or a certificate other "
            "than the one listed at index {index}",
            index=own,
        ),
    )


def _spawn(loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task[None]], job: Any) -> None:
    task = loop.create_task(job)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _accept(mpc: Any, links: _Links, context: ssl.SSLContext, transport: Any) -> None:
    """Take one incoming connection through the TLS handshake, then to MPyC."""
    exchanger = _exchanger()(mpc, links)
    try:
        tls = await mpc._loop.start_tls(
            transport,
            exchanger,
            context,
            server_side=True,
            ssl_handshake_timeout=HANDSHAKE_SECONDS,
        )
    except ssl.SSLCertVerificationError:
        links.fail(
            TransportFailure(
                t_(
                    "a party presented a certificate that the session does not list; "
                    "this node refuses to compute and nothing was opened"
                )
            )
        )
        return
    except (ssl.SSLError, OSError, TimeoutError) as error:
        links.fail_soon(_refused(links.own, _reason(error)))
        return
    exchanger.connection_made(tls)


async def _listen(
    mpc: Any, links: _Links, context: ssl.SSLContext, tasks: set[asyncio.Task[None]]
) -> Any:
    """Listen on this party's port for the parties of lower index."""
    loop = mpc._loop

    class _Incoming(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            _spawn(loop, tasks, _accept(mpc, links, context, transport))

    port = mpc.parties[links.own].port
    try:
        return await loop.create_server(_Incoming, port=port)
    except OSError as error:
        raise TransportFailure(
            t_(
                "cannot listen on port {port}: {reason}; nothing was opened",
                port=port,
                reason=error.strerror or error,
            ),
            hint=t_("free the port, or ask the facilitator to list another one"),
        ) from None


async def _dial(mpc: Any, links: _Links, peer: Any, cert_file: str, key_file: str) -> None:
    """Connect to a party of higher index, trusting only the certificate listed for it."""
    listed = links.peers[peer.pid]
    context = _context(ssl.PROTOCOL_TLS_CLIENT, cert_file, key_file, [listed.certificate])
    while not links.failed.done():
        try:
            await mpc._loop.create_connection(
                lambda: _exchanger()(mpc, links, peer.pid),
                peer.host,
                peer.port,
                ssl=context,
                server_hostname=peer.host or "localhost",
                ssl_handshake_timeout=HANDSHAKE_SECONDS,
            )
            return
        except ssl.SSLCertVerificationError:
            links.fail(_mismatch(peer.pid))
            return
        except ssl.SSLError as error:
            links.fail(_refused(links.own, _reason(error)))
            return
        except OSError:
            await asyncio.sleep(RETRY_SECONDS)


async def connect(
    mpc: Any, peers: list[Peer], cert_file: str, key_file: str, timeout: float
) -> _Links:
    """Connect this party to every other over pinned TLS, in place of ``mpc.start()``.

    Returns the connections' state, to pass to :func:`guarded` while computing.

    Raises
    ------
    TransportFailure
        A certificate refused either way, a handshake that failed, a party that did not
        connect within ``timeout`` seconds (named).
    """
    loop = mpc._loop
    own = mpc.pid
    links = _Links(loop, peers, own)
    trusted = [p.certificate for p in peers if p.index < own]
    for party in mpc.parties:
        party.protocol = asyncio.Future(loop=loop) if party.pid == own else None
    server = None
    tasks: set[asyncio.Task[None]] = set()
    if own:
        context = _context(ssl.PROTOCOL_TLS_SERVER, cert_file, key_file, trusted)
        server = await _listen(mpc, links, context, tasks)
    for peer in mpc.parties[own + 1 :]:
        _spawn(loop, tasks, _dial(mpc, links, peer, cert_file, key_file))
    everyone = mpc.parties[own].protocol
    try:
        await asyncio.wait(
            {everyone, links.failed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if links.failed.done():
            links.failed.result()
        if not everyone.done():
            missing = [str(p.pid) for p in mpc.parties if p.pid != own and p.protocol is None]
            raise TransportFailure(
                t_n(
                    "party {indices} did not connect within {seconds:g} s; nothing was opened",
                    "parties {indices} did not connect within {seconds:g} s; nothing was opened",
                    n=len(missing),
                    indices=", ".join(missing),
                    seconds=timeout,
                ),
                hint=t_(
                    "check that every node runs with this session and can reach the hosts "
                    "and ports it lists"
                ),
            )
    finally:
        for task in list(tasks):
            task.cancel()
        if server is not None:
            server.close()
    mpc.start_time = time.time()
    return links


async def guarded(links: _Links, computation: Any, timeout: float) -> Any:
    """Run ``computation`` until it ends, a party drops out or ``timeout`` seconds pass.

    Raises
    ------
    TransportFailure
        A peer's connection was lost, or the time ran out; the computation is cancelled.
    """
    task = asyncio.ensure_future(computation)
    await asyncio.wait({task, links.failed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    task.cancel()
    if links.failed.done():
        links.failed.result()
    raise TransportFailure(
        t_(
            "the computation did not finish within {seconds:g} s; nothing was opened",
            seconds=timeout,
        )
    )


def finished(links: _Links) -> None:
    """The computation ended: connections may now close (MPyC's shutdown)."""
    links.computing = False
    if not links.failed.done():
        links.failed.cancel()
