"""Session documents: a good one gives the plan; every bad one a specific error.

No process is started here: these are the checks a node makes before it computes.
"""

from __future__ import annotations

import asyncio
import copy
import json
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backchannel.blind.plan import Finding
from backchannel.blind.run import split_case
from backchannel.blind.session import (
    Credentials,
    SessionError,
    parse_session,
    run_session,
    session_document,
)
from backchannel.storage.node_identity import NodeIdentity, init_identity

from .test_blind_transcript import FIRST


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> list[NodeIdentity]:
    root = tmp_path_factory.mktemp("nodes")
    return [init_identity(root / f"n{i}") for i in range(4)]


@pytest.fixture(scope="module")
def good(identities: list[NodeIdentity]) -> dict[str, Any]:
    certificates = [i.certificate for i in identities[:3]]
    addresses = [("127.0.0.1", 40001 + i) for i in range(3)]
    doc = session_document(FIRST, Finding.NASH, certificates, addresses, [frozenset({0, 1})])
    return json.loads(json.dumps(doc))


def test_a_good_document_gives_the_plan_recomputed_by_the_node(good: dict[str, Any]) -> None:
    session = parse_session(good)
    assert session.plan.finding is Finding.NASH
    assert (session.plan.delegations, session.plan.helpers) == (2, 1)
    assert session.plan.sizes == (3, 3) and session.plan.components == ((0, 1),)
    assert [p.kind for p in session.parties] == ["delegation", "delegation", "helper"]
    assert session.agenda.parties == []  # no absent stakeholder: an empty list is allowed


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is KeyError:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


BAD = [
    ("format", _set("format", "backchannel-blind-session/2"), r"format: is '.*/2', this node"),
    ("no finding", _set("finding", KeyError), r"finding: missing"),
    ("finding", _set("finding", "best"), r"finding: 'best' is not one of: overlap"),
    ("round", _set("round", "3"), r"round: must be of type int"),
    ("port", _set("parties.1.port", 70000), r"parties\[1\]\.port: must be a port from 1"),
    ("port bool", _set("parties.1.port", True), r"parties\[1\]\.port: must be of type int"),
    ("index", _set("parties.2.index", 5), r"parties\[2\]\.index: is 5, expected 2"),
    ("kind", _set("parties.0.kind", "observer"), r"parties\[0\]\.kind: must be delegation or"),
    ("order", _set("parties.0.kind", "helper"), r"parties: delegations must come first"),
    ("certificate", _set("parties.2.certificate", "junk"), r"parties\[2\]\.certificate: is not"),
    ("fingerprint", _set("parties.1.fingerprint", "ab" * 32), r"parties\[1\]\.fingerprint: is not"),
    ("short print", _set("parties.1.fingerprint", "abc"), r"64 hexadecimal digits"),
    ("links", _set("links", [[0, 7]]), r"links\[0\]: must be a list of issue indices from 0 to 1"),
    ("agenda", _set("agenda.issues", []), r"session document: agenda"),
]


@pytest.mark.parametrize(("change", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_document_is_refused_with_the_place_and_the_problem(
    good: dict[str, Any], change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    doc = copy.deepcopy(good)
    change(doc)
    with pytest.raises(SessionError, match=expected) as caught:
        parse_session(doc)
    assert caught.value.exit_code == 2


def test_a_certificate_listed_twice_is_refused(good: dict[str, Any]) -> None:
    doc = copy.deepcopy(good)
    doc["parties"][2]["certificate"] = doc["parties"][0]["certificate"]
    doc["parties"][2]["fingerprint"] = doc["parties"][0]["fingerprint"]
    with pytest.raises(SessionError, match=r"parties\[2\]\.certificate: is also listed at index 0"):
        parse_session(doc)


def test_an_agenda_that_carries_a_side_is_refused(good: dict[str, Any]) -> None:
    doc = copy.deepcopy(good)
    doc["agenda"] = FIRST.model_dump(mode="json", by_alias=True, exclude_none=True)
    with pytest.raises(SessionError, match="agenda must hold no delegation"):
        parse_session(doc)


def test_a_plan_without_helper_is_refused_with_the_reason(good: dict[str, Any]) -> None:
    doc = copy.deepcopy(good)
    del doc["parties"][2]
    with pytest.raises(SessionError, match=r"refuses the session's plan: .*at least one helper"):
        parse_session(doc)


def _credentials(identity: NodeIdentity) -> Credentials:
    return Credentials(str(identity.cert_path), str(identity.key_path), identity.certificate)


def test_a_node_refuses_an_index_whose_certificate_is_not_its_own(
    good: dict[str, Any], identities: list[NodeIdentity]
) -> None:
    session = parse_session(good)
    with pytest.raises(SessionError, match="not the one the session lists at index 1"):
        run_session(session, 1, _credentials(identities[3]), split_case(FIRST)[1])


def test_a_position_on_another_agenda_is_refused_naming_the_issue(
    good: dict[str, Any], identities: list[NodeIdentity]
) -> None:
    session = parse_session(good)
    side = split_case(FIRST)[0]
    issues = [side.issues[0], side.issues[1].model_copy(update={"options": ["o0", "o2", "o1"]})]
    other = side.model_copy(update={"issues": issues})
    with pytest.raises(
        SessionError, match=r"differs from this node's position at issue 2 \('i1'\)"
    ):
        run_session(session, 0, _credentials(identities[0]), other)


def test_a_helper_index_takes_no_position_and_a_delegation_needs_one(
    good: dict[str, Any], identities: list[NodeIdentity]
) -> None:
    session = parse_session(good)
    with pytest.raises(SessionError, match="index 2 is a helper"):
        run_session(session, 2, _credentials(identities[2]), split_case(FIRST)[0])
    with pytest.raises(SessionError, match="index 0 is a delegation and this node holds no"):
        run_session(session, 0, _credentials(identities[0]), None)
    with pytest.raises(SessionError, match="index 3 is not in the session"):
        run_session(session, 3, _credentials(identities[0]), None)


def test_the_document_round_trips_through_a_file(good: dict[str, Any], tmp_path: Path) -> None:
    from backchannel.services import node

    path = tmp_path / "session.json"
    path.write_text(json.dumps(good), encoding="utf-8")
    assert node.read_session(path).computation == "local"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(Exception, match="not valid JSON"):
        node.read_session(path)


def test_a_certificate_is_pinned_to_its_own_index_only(identities: list[NodeIdentity]) -> None:
    from backchannel.blind.pinning import Peer
    from backchannel.blind.tls import _Links

    def der(i: int) -> bytes:
        return ssl.PEM_cert_to_DER_cert(identities[i].certificate)

    peers = [Peer(i, "127.0.0.1", 40001 + i, identities[i].certificate) for i in range(3)]
    loop = asyncio.new_event_loop()
    try:
        links = _Links(loop, peers, own=2)
        assert links.pinned(0, der(0)) and links.pinned(1, der(1))
        assert not links.pinned(0, der(1))  # listed, but at another index
        assert not links.pinned(1, der(3))  # not listed at all
        assert not links.pinned(2, der(2))  # this node's own index
        assert not links.pinned(7, der(0))  # an index the session does not have
        assert not links.pinned(0, None)  # no certificate
    finally:
        loop.close()
