"""One blind computation as the coordinating server describes it, run by one node.

The session document (format ``backchannel-blind-session/1``) names the finding, the public
agenda (issues and absent stakeholders only), the issue sets that the sides' conditions
link, and every party by index: delegations first, then helpers, each with the host and
port it listens on and the certificate it gave at invitation time. :func:`parse_session`
checks it and recomputes the plan (a chunk size or limit from the server is never
trusted); :func:`run_session` runs this node's party over pinned TLS
(:mod:`backchannel.blind.tls`) and returns what was opened; :func:`result_document` is
the answer a node posts back.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backchannel.blind.local import SCALE
from backchannel.blind.pinning import TransportFailure, pem_fingerprint
from backchannel.blind.plan import Finding, Plan, make_plan
from backchannel.blind.protocol import Opened
from backchannel.blind.pruning import public_pruning
from backchannel.blind.warm import PartyFailed, PortTaken, run_parties, shared_server
from backchannel.errors import BackchannelError, InputError
from backchannel.formats.case_data import parse_case
from backchannel.messages import Message, t_
from backchannel.model.case import Case, PartyRole
from backchannel.model.compile import compile_agenda
from backchannel.model.problem import IssueDomain

FORMAT = "backchannel-blind-session/1"
KINDS = ("delegation", "helper")
DEFAULT_TIMEOUT = 600.0
SHUTDOWN_GRACE = 30.0
"""Seconds a party process gets beyond its own time limits before it is killed."""

SECRET_VARIABLES = ("BACKCHANNEL_NODE_PASSPHRASE", "BACKCHANNEL_KEY_PASSPHRASE")
"""Left out of a party process's environment: it needs no passphrase."""


_HEX = re.compile(r"[0-9a-f]{64}")


class SessionError(InputError):
    """A session document this node cannot run, and why (exit code 2)."""


@dataclass(frozen=True)
class Credentials:
    """This node's certificate and private key, as files the party process loads."""

    cert_file: str
    key_file: str
    certificate: str
    """The certificate, PEM."""


@dataclass(frozen=True)
class SessionParty:
    """One party of the computation, as the session lists it."""

    index: int
    kind: str
    party: str | None
    label: str
    host: str
    port: int
    certificate: str
    fingerprint: str


@dataclass(frozen=True)
class Session:
    """A checked session document, with the plan this node computed from it."""

    computation: str
    dialogue: str
    round: int
    finding: Finding
    agenda: Case
    issues: tuple[IssueDomain, ...]
    links: tuple[frozenset[int], ...]
    parties: tuple[SessionParty, ...]
    plan: Plan


def _bad(where: str, problem: Message) -> SessionError:
    return SessionError(
        t_("session document: {where}: {problem}", where=where, problem=problem),
        hint=t_("ask the facilitator for the session document of this computation again"),
    )


def _field(doc: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise _bad(f"{where}{key}", t_("missing"))
    value = doc[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _bad(f"{where}{key}", t_("must be of type {kind}", kind=names))
    return value


def _party(entry: Any, position: int) -> SessionParty:
    where = f"parties[{position}]"
    if not isinstance(entry, Mapping):
        raise _bad(where, t_("must be an object"))
    index = _field(entry, "index", f"{where}.", int)
    if index != position:
        raise _bad(
            f"{where}.index", t_("is {index}, expected {position}", index=index, position=position)
        )
    kind = _field(entry, "kind", f"{where}.", str)
    if kind not in KINDS:
        raise _bad(f"{where}.kind", t_("must be delegation or helper, not {kind}", kind=repr(kind)))
    party = entry.get("party")
    if kind == "delegation" and not (isinstance(party, str) and party):
        raise _bad(f"{where}.party", t_("a delegation must name its party"))
    label = entry.get("label") or ""
    host = _field(entry, "host", f"{where}.", str)
    if not host.strip():
        raise _bad(f"{where}.host", t_("must not be empty"))
    port = _field(entry, "port", f"{where}.", int)
    if not 1 <= port <= 65535:
        raise _bad(f"{where}.port", t_("must be a port from 1 to 65535, not {port}", port=port))
    certificate = _field(entry, "certificate", f"{where}.", str)
    try:
        ssl.create_default_context(cadata=certificate)
        digest = pem_fingerprint(certificate)
    except (ssl.SSLError, ValueError):
        raise _bad(f"{where}.certificate", t_("is not a PEM certificate")) from None
    listed = _field(entry, "fingerprint", f"{where}.", str).lower()
    if not _HEX.fullmatch(listed):
        raise _bad(f"{where}.fingerprint", t_("must be 64 hexadecimal digits (SHA-256)"))
    if not hmac.compare_digest(listed, digest):
        raise _bad(
            f"{where}.fingerprint", t_("is not the SHA-256 fingerprint of the certificate listed")
        )
    return SessionParty(
        index,
        kind,
        party if isinstance(party, str) else None,
        str(label),
        host,
        port,
        certificate,
        digest,
    )


def parse_session(doc: Any) -> Session:  # noqa: PLR0912 (one check per field, in order)
    """Check a session document and compute its plan.

    Raises
    ------
    SessionError
        A field missing or malformed (named, with its place), an agenda that is not one
        or that holds a delegation, parties out of order, a certificate listed twice, or
        a plan blind mode refuses (no helper, too many packages: with the reason).
    """
    if not isinstance(doc, Mapping):
        raise _bad("(document)", t_("must be a JSON object"))
    form = _field(doc, "format", "", str)
    if form != FORMAT:
        raise _bad(
            "format",
            t_("is {found}, this node reads {expected}", found=repr(form), expected=repr(FORMAT)),
        )
    computation = _field(doc, "computation", "", str)
    if not computation:
        raise _bad("computation", t_("must not be empty"))
    dialogue = _field(doc, "dialogue", "", str)
    round_ = _field(doc, "round", "", int)
    name = _field(doc, "finding", "", str)
    try:
        finding = Finding(name)
    except ValueError:
        raise _bad(
            "finding",
            t_(
                "{name} is not one of: {known}",
                name=repr(name),
                known=", ".join(f.value for f in Finding),
            ),
        ) from None
    try:
        data = dict(_field(doc, "agenda", "", Mapping))
        # An agenda with no absent stakeholder has no party at all, which a case file
        # may not be: a placeholder stands in while it is checked.
        empty = not data.get("parties")
        if empty:
            data["parties"] = [{"name": "(none)", "role": "absent"}]
        agenda = parse_case(data, "session document: agenda")
        if empty:
            agenda = agenda.model_copy(update={"parties": []})
        issues = compile_agenda(agenda, "session document: agenda")
        kept = public_pruning(agenda, "session document: agenda")
    except InputError as error:
        raise SessionError(error.text, hint=error.hint_text) from None
    if any(p.role is not PartyRole.ABSENT for p in agenda.parties):
        raise _bad(
            "agenda.parties",
            t_(
                "the agenda must hold no delegation, only absent "
                "stakeholders: this node refuses a session that "
                "carries a side's position"
            ),
        )
    links = []
    for k, link in enumerate(_field(doc, "links", "", list)):
        if not isinstance(link, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(issues) for i in link
        ):
            raise _bad(
                f"links[{k}]",
                t_("must be a list of issue indices from 0 to {last}", last=len(issues) - 1),
            )
        links.append(frozenset(link))
    parties = tuple(_party(e, k) for k, e in enumerate(_field(doc, "parties", "", list)))
    kinds = [p.kind for p in parties]
    delegations = kinds.count("delegation")
    if kinds != ["delegation"] * delegations + ["helper"] * (len(kinds) - delegations):
        raise _bad("parties", t_("delegations must come first, then helpers"))
    seen: dict[str, int] = {}
    for p in parties:
        if p.fingerprint in seen:
            raise _bad(
                f"parties[{p.index}].certificate",
                t_(
                    "is also listed at index {other}; every party needs its own",
                    other=seen[p.fingerprint],
                ),
            )
        seen[p.fingerprint] = p.index
    sizes = tuple(issue.size for issue in issues)
    try:
        plan = make_plan(finding, sizes, delegations, len(parties) - delegations, links, kept)
    except BackchannelError as error:
        raise SessionError(
            t_("this node refuses the session's plan: {reason}", reason=error.text),
            hint=error.hint_text,
        ) from None
    return Session(
        computation, dialogue, round_, finding, agenda, issues, tuple(links), parties, plan
    )


def check_position(session: Session, side: Case) -> None:
    """Refuse a position whose agenda is not the session's (naming the first issue that
    differs) or that does not hold exactly one delegation."""
    own = compile_agenda(side, "<this node's position>")
    delegations = [p for p in side.parties if p.role is PartyRole.DELEGATION]
    if len(delegations) != 1:
        raise SessionError(
            t_(
                "this node's position holds {count} delegations, not exactly one",
                count=len(delegations),
            ),
            hint=t_("store the side of one delegation with `backchannel node position`"),
        )
    for k in range(max(len(own), len(session.issues))):
        mine = own[k] if k < len(own) else None
        theirs = session.issues[k] if k < len(session.issues) else None
        if (
            mine is None
            or theirs is None
            or (mine.name, mine.labels) != (theirs.name, theirs.labels)
        ):
            shown = theirs or mine
            assert shown is not None
            raise SessionError(
                t_(
                    "the session's agenda differs from this node's position at issue {k} "
                    "({name}): names and options must be the same, in the same order",
                    k=k + 1,
                    name=repr(shown.name),
                ),
                hint=t_(
                    "store a position on the session's agenda, or ask the facilitator "
                    "which agenda this computation uses"
                ),
            )


def party_environment() -> dict[str, str]:
    """The environment of a party process: this one's, without any passphrase."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}


def plan_job(plan: Plan, index: int, side: Case | None, timeout: float) -> dict[str, Any]:
    """What a party process is told of its computation: its index, the plan, its side's
    case (a delegation's) and the time limits; the transport is added by the caller."""
    return {
        "index": index,
        "finding": plan.finding.value,
        "sizes": list(plan.enumerated),
        "kept": [list(k) for k in plan.kept],
        "components": [list(c) for c in plan.components],
        "chunk": plan.chunk,
        "delegations": plan.delegations,
        "scale": SCALE,
        "connect_timeout": timeout,
        "timeout": timeout,
        "side_doc": None
        if side is None
        else side.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def _job(
    session: Session, index: int, credentials: Credentials, side: Case | None, timeout: float
) -> dict[str, Any]:
    return {
        **plan_job(session.plan, index, side, timeout),
        "parties": [
            {"host": p.host, "port": p.port, "certificate": p.certificate} for p in session.parties
        ],
        "tls": {"cert_file": credentials.cert_file, "key_file": credentials.key_file},
    }


def run_session(
    session: Session,
    index: int,
    credentials: Credentials,
    side: Case | None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    warm: bool = False,
) -> Opened:
    """Run this node's party of ``session`` at ``index`` and return what was opened.

    The party runs as its own process; its side reaches it on a pipe (never in a file).
    With ``warm``, the process is forked from this process's party server
    (:mod:`backchannel.blind.warm`), which a node that follows the server keeps from one
    computation to the next; otherwise it is a fresh interpreter.
    A delegation's node needs its side; a helper's node has none.

    Parameters
    ----------
    session:
        The checked session (:func:`parse_session`).
    index:
        This node's index in the session.
    credentials:
        This node's certificate and key; the certificate must be the one listed at
        ``index``.
    side:
        This delegation's position (the agenda and its one delegation); ``None`` for a
        helper.
    timeout:
        Seconds to wait for every other party to connect, and then again for the
        computation.

    Raises
    ------
    SessionError
        An index not in the session, a certificate other than the one listed at it, a
        side missing (delegation) or given (helper), or a position on another agenda.
    TransportFailure
        A peer's certificate did not match (named), a peer dropped out, the time ran
        out: nothing was opened.
    """
    if not 0 <= index < len(session.parties):
        raise SessionError(
            t_(
                "index {index} is not in the session; it lists parties 0 to {last}",
                index=index,
                last=len(session.parties) - 1,
            )
        )
    listed = session.parties[index]
    try:
        own = pem_fingerprint(credentials.certificate)
    except ValueError:
        raise SessionError(t_("this node's certificate is not a PEM certificate")) from None
    if not hmac.compare_digest(own, listed.fingerprint):
        raise SessionError(
            t_(
                "this node's certificate is not the one the session lists at index {index}; "
                "this node refuses to compute",
                index=index,
            ),
            hint=t_(
                "give the facilitator this node's certificate (`backchannel node show`) "
                "or run with the index the session gives it"
            ),
        )
    if listed.kind == "delegation":
        if side is None:
            raise SessionError(
                t_("index {index} is a delegation and this node holds no position", index=index),
                hint=t_("store it with `backchannel node position`"),
            )
        check_position(session, side)
    elif side is not None:
        raise SessionError(
            t_("index {index} is a helper: a helper supplies no position", index=index)
        )
    if warm:
        doc = _run_warm(_job(session, index, credentials, side, timeout), index, timeout)
    else:
        doc = _run_fresh(_job(session, index, credentials, side, timeout), index, timeout)
    return Opened(
        overlap=None if doc["overlap"] is None else tuple(bool(b) for b in doc["overlap"]),
        exists=doc["exists"],
        package=None if doc["package"] is None else tuple(int(o) for o in doc["package"]),
    )


def _out_of_time(seconds: float) -> TransportFailure:
    return TransportFailure(
        t_(
            "the computation did not finish within {seconds:g} s; nothing was opened",
            seconds=seconds,
        )
    )


def _stopped(index: int, code: int, reason: str) -> TransportFailure:
    return TransportFailure(
        t_(
            "party {index} stopped (exit {code}): {reason}",
            index=index,
            code=code,
            reason=reason,
        )
    )


def _run_warm(job: dict[str, Any], index: int, timeout: float) -> dict[str, Any]:
    """This node's party forked from its warm party server; what it wrote."""
    limit = 2 * timeout + SHUTDOWN_GRACE
    try:
        (doc,) = run_parties(shared_server(party_environment()), [job], limit)
    except TimeoutError:
        raise _out_of_time(limit) from None
    except PortTaken:
        raise _stopped(index, 2, "address already in use") from None
    except PartyFailed as failed:
        raise _stopped(index, failed.code, failed.reason) from None
    return doc


def _run_fresh(job_doc: dict[str, Any], index: int, timeout: float) -> dict[str, Any]:
    """This node's party as a fresh interpreter; what it wrote."""
    job = json.dumps(job_doc).encode("utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "backchannel.blind.node", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=party_environment(),
    )
    try:
        out, err = process.communicate(job, timeout=2 * timeout + SHUTDOWN_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise _out_of_time(2 * timeout + SHUTDOWN_GRACE) from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise _stopped(index, process.returncode, stated_error(err.decode(errors="replace")))
    doc: dict[str, Any] = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    return doc


def stated_error(stderr: str) -> str:
    """Why a party process stopped: its last ``error:`` line, else its last line (Python may
    print warnings about its pending tasks after the reason)."""
    lines = stderr.strip().splitlines()
    stated = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    return stated[-1] if stated else (lines[-1] if lines else "no message")


def result_document(
    session: Session, index: int, opened: Opened | None = None, failed: str | None = None
) -> dict[str, Any]:
    """What a node posts back: what was opened, or why it failed (nothing opened)."""
    if opened is None:
        return {"computation": session.computation, "index": index, "failed": failed or "failed"}
    return {
        "computation": session.computation,
        "index": index,
        "opened": {
            "overlap": None if opened.overlap is None else list(opened.overlap),
            "exists": opened.exists,
            "package": None if opened.package is None else list(opened.package),
        },
    }


def session_document(
    case: Case,
    finding: Finding,
    certificates: list[str],
    addresses: list[tuple[str, int]],
    links: list[frozenset[int]] | None = None,
    *,
    computation: str = "local",
    dialogue: str = "local",
    round_: int = 1,
) -> dict[str, Any]:
    """A session document for ``case``'s delegations then helpers (what the server sends).

    ``certificates`` and ``addresses`` give every party, delegations first (in the case's
    order), then helpers; the agenda keeps only the issues and the absent stakeholders.
    """
    delegations = [p for p in case.parties if p.role is PartyRole.DELEGATION]
    absent = [p for p in case.parties if p.role is PartyRole.ABSENT]
    agenda = case.model_copy(update={"parties": absent})
    parties = []
    for index, (certificate, (host, port)) in enumerate(zip(certificates, addresses, strict=True)):
        delegation = delegations[index] if index < len(delegations) else None
        parties.append(
            {
                "index": index,
                "kind": "delegation" if delegation else "helper",
                "party": delegation.name if delegation else None,
                "label": delegation.name
                if delegation
                else f"Helper {index - len(delegations) + 1}",
                "host": host,
                "port": port,
                "certificate": certificate,
                "fingerprint": pem_fingerprint(certificate),
            }
        )
    return {
        "format": FORMAT,
        "computation": computation,
        "dialogue": dialogue,
        "round": round_,
        "finding": finding.value,
        "agenda": agenda.model_dump(mode="json", by_alias=True, exclude_none=True),
        "links": [sorted(link) for link in links or []],
        "parties": parties,
    }
