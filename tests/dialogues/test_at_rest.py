"""Confidentiality at rest: canaries, sealed-field integrity and the key-encryption key.

Unique random canaries go into every private field a person types (the dialogue title,
issue names, descriptions and options, delegation names, pseudonyms, position notes,
passwords; never user names or display names, which are metadata). The whole flow runs
through the web app, errors included, with every log record captured; then the raw
bytes of the SQLite file and its ``-wal`` and ``-shm`` files, the captured logs and
every error body are scanned: no canary may appear. A negative control shows that the
same scan finds a canary written in plaintext.

Sealed fields are bound to their place: a blob moved to another row, column or
dialogue, or with a flipped bit, raises :class:`TamperedData` and never yields
plaintext; a wrong or unsafe key file stops :meth:`Platform.open`.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from backchannel.model.results import SettlementRule
from backchannel.services import (
    accounts,
    dialogues,
    escalation,
    evaluation_robustness,
    evaluations,
    positions,
    releases,
    rounds,
)
from backchannel.services.platform import Platform
from backchannel.storage.vault import KeyFileError, TamperedData, init_key_file
from backchannel.web.app import create_app
from conftest import World, build_world, make_settings

from .conftest import BASE_URL, Browserless, csrf_of, sign_in

ERROR_STATUSES = (401, 404, 409, 422)


def close(platform: Platform) -> None:
    """Dispose of every engine of the platform (the writer's and the readers')."""
    platform.close()


@dataclass
class Canaries:
    """One unique random string per private field."""

    values: dict[str, str] = field(default_factory=dict)

    def __call__(self, where: str, *, length: int = 0) -> str:
        token = f"cnry{secrets.token_hex(10)}"
        value = token + "x" * max(0, length - len(token))
        self.values[where] = value
        return value


def forms(value: str) -> list[bytes]:
    """The byte forms a string could take on disk or in a log."""
    out = []
    for variant in {value, value.upper()}:
        out += [variant.encode("utf-8"), variant.encode("utf-16-le"), variant.encode("utf-16-be")]
    return out


def scan(canaries: dict[str, str], sources: dict[str, bytes]) -> list[tuple[str, str]]:
    """Every (source, field) where a canary's bytes occur."""
    return [
        (where, name)
        for where, blob in sources.items()
        for name, value in canaries.items()
        if any(form in blob for form in forms(value))
    ]


def database_files(platform: Platform) -> dict[str, bytes]:
    database = Path(platform.engine.url.database or "")
    found = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{database}{suffix}")
        if path.exists():
            found[path.name] = path.read_bytes()
    assert database.name in found
    return found


def captured(caplog: pytest.LogCaptureFixture) -> dict[str, bytes]:
    lines = [caplog.text]
    for r in caplog.records:
        lines.append(f"{r.name} {r.levelname} {r.msg!r} {r.args!r} {r.getMessage()} {r.exc_text}")
    return {"logs": "\n".join(lines).encode("utf-8")}


@dataclass
class Site:
    """The web app and what the flow collected from it."""

    app: FastAPI
    errors: list[tuple[str, int, str]] = field(default_factory=list)

    def call(
        self,
        who: Browserless,
        method: str,
        path: str,
        expect: int = 200,
        *,
        csrf: bool = True,
        **kwargs: Any,
    ) -> Any:
        headers = {"X-CSRF-Token": who.csrf} if csrf else {}
        response = who.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        if response.status_code in ERROR_STATUSES:
            self.errors.append((f"{method} {path}", response.status_code, response.text))
        return response


def run_the_flow(platform: Platform, canary: Canaries) -> tuple[Site, str]:
    """The whole flow through the web app, with 404, 409 and 422 answers along the way."""
    site = Site(create_app(platform.settings, platform))
    passwords: dict[str, str] = {}
    for name in ("facilitator", "outsider"):
        passwords[name] = canary(f"password of {name}", length=16)
        accounts.create_user(platform, name, name.title(), passwords[name])
    fac = sign_in(site.app, "facilitator", passwords["facilitator"])
    title = canary("dialogue title")
    d = site.call(fac, "POST", "/api/v1/dialogues", 201, json={"title": title}).json()["id"]
    options = [[canary(f"option {i}.{o}") for o in range(3)] for i in (1, 2)]
    agenda = {
        "issues": [
            {
                "id": f"i{i}",
                "name": canary(f"issue {i}"),
                "kind": "ordered",
                "options": options[i - 1],
                "description": canary(f"description {i}"),
            }
            for i in (1, 2)
        ]
    }
    site.call(fac, "PUT", f"/api/v1/dialogues/{d}/agenda", json=agenda)
    parties = {}
    for key, absent in (("A", False), ("B", False), ("Z", True)):
        body = {"name": canary(f"delegation {key}"), "absent": absent}
        response = site.call(fac, "POST", f"/api/v1/dialogues/{d}/delegations", 201, json=body)
        parties[key] = response.json()["id"]
    # members join by invitation, through the page, with canary pseudonyms and passwords
    members = {}
    for name, key in (("a1", "A"), ("b1", "B")):
        body = {"role": "member", "delegation_id": parties[key], "track": "expert"}
        link = site.call(fac, "POST", f"/api/v1/dialogues/{d}/invitations", 201, json=body)
        token = link.json()["link"].rsplit("/", 1)[1]
        passwords[name] = canary(f"password of {name}", length=16)
        form = {
            "username": name,
            "display_name": f"Member {name}",
            "password": passwords[name],
            "pseudonym": canary(f"pseudonym of {name}"),
        }
        anonymous = TestClient(site.app, base_url=BASE_URL)
        response = anonymous.post(f"/invite/{token}", data=form)
        assert response.status_code == 200 and "/signin" in str(response.url)
        again = anonymous.post(f"/invite/{token}", data={**form, "username": name + "x"})
        assert again.status_code == 422
        site.errors.append(("POST /invite (used)", 422, again.text))
        anonymous.close()
        members[name] = sign_in(site.app, name, passwords[name])
    observer = canary("password of observer", length=16)
    accounts.create_user(platform, "observer", "Observer", observer)
    owner = accounts.sign_in(platform, "facilitator", passwords["facilitator"], "test").actor
    dialogues.add_member(
        platform, owner, d, "observer", "observer", pseudonym=canary("pseudonym of observer")
    )
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds", 201)
    a, b = options
    position_a = {
        "importance": {"i1": 1, "i2": 2},
        "ratings": {"i1": {a[2]: 100, a[1]: 60}, "i2": {b[0]: 100, b[1]: 50}},
        "unacceptable": [{"issue": "i2", "option": b[2]}],
        "walk_away": 20,
        "note": canary("note of A", length=200),
    }
    position_b = {
        "importance": {"i2": 1, "i1": 2},
        "ratings": {"i2": {b[2]: 100, b[1]: 70}, "i1": {a[0]: 100, a[1]: 60}},
        "unacceptable": [{"issue": "i1", "option": a[2]}],
        "rules": [
            {"if_issue": "i1", "if_options": [a[1]], "then_issue": "i2", "then_options": [b[1]]}
        ],
        "note": canary("note of B", length=200),
    }
    position_z = {"unacceptable": [{"issue": "i1", "option": a[0]}], "note": canary("note of Z")}
    site.call(members["a1"], "PUT", f"/api/v1/dialogues/{d}/position", json=position_a)
    site.call(members["b1"], "PUT", f"/api/v1/dialogues/{d}/position", json=position_b)
    z = parties["Z"]
    site.call(fac, "PUT", f"/api/v1/dialogues/{d}/position?delegation={z}", json=position_z)
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds/current/lock")
    evaluation = site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds/current/evaluate", 201)
    e = evaluation.json()["id"]
    findings = site.call(fac, "GET", f"/api/v1/dialogues/{d}/evaluations").json()[0]["findings"]
    assert findings["zone"] is True, findings
    for audience, kind, parameter in (
        (parties["A"], "zone", ""),
        (parties["B"], "package", "nash"),
        ("observers", "overlap", "i1"),
    ):
        body = {"evaluation_id": e, "audience": audience, "kind": kind, "parameter": parameter}
        made = site.call(fac, "POST", f"/api/v1/dialogues/{d}/releases", 201, json=body)
        if audience == parties["B"]:  # the id answered is the one the side's list names
            listed = site.call(members["b1"], "GET", f"/api/v1/dialogues/{d}/releases").json()
            assert [r["id"] for r in listed] == [made.json()["id"]]
    # the pages render the canaries to those who may read them (not scanned: not errors)
    assert title in site.call(fac, "GET", f"/d/{d}/analysis").text
    assert position_a["note"] in site.call(members["a1"], "GET", f"/d/{d}/position").text
    # the facilitator's workspace (readiness, history, overview) shows no note of a side
    for path in (f"/d/{d}", f"/d/{d}/history", f"/api/v1/dialogues/{d}/readiness"):
        text = site.call(fac, "GET", path).text
        assert position_a["note"] not in text and position_b["note"] not in text, path
    # 404: another side's position, the facilitator's pages, a dialogue without a seat
    outsider = sign_in(site.app, "outsider", passwords["outsider"])
    a_side = parties["A"]
    for who, path in (
        (members["b1"], f"/api/v1/dialogues/{d}/position?delegation={a_side}"),
        (members["b1"], f"/d/{d}/position?delegation={a_side}"),
        (members["a1"], f"/d/{d}/analysis"),
        (members["a1"], f"/api/v1/dialogues/{d}/evaluations"),
        (members["a1"], f"/api/v1/dialogues/{d}/readiness"),
        (members["a1"], f"/d/{d}/rounds/evaluate"),
        (members["b1"], f"/api/v1/dialogues/{d}/invitations"),
        (outsider, f"/d/{d}/history"),
        (fac, f"/api/v1/dialogues/{d}/position?delegation={a_side}"),
        (outsider, f"/d/{d}"),
        (outsider, f"/d/{d}/releases"),
        (outsider, f"/api/v1/dialogues/{d}"),
        (outsider, f"/api/v1/dialogues/{d}/log"),
        (fac, "/d/no-such-dialogue"),
        (fac, "/no/such/page"),
    ):
        site.call(who, "GET", path, 404)
    path = f"/api/v1/dialogues/{d}/position?delegation={a_side}"
    site.call(members["b1"], "PUT", path, 404, json=position_b)
    body = {"evaluation_id": e, "audience": parties["A"], "kind": "zone"}
    site.call(members["b1"], "POST", f"/api/v1/dialogues/{d}/releases", 404, json=body)
    site.call(outsider, "POST", f"/api/v1/dialogues/{d}/rounds/current/lock", 404)
    # 422: bad input, refused disclosures, a missing CSRF token, a wrong password
    for body in (
        {"evaluation_id": e, "audience": parties["B"], "kind": "bogus"},
        {"evaluation_id": e, "audience": parties["B"], "kind": "clash", "parameter": "s0-no-i2-2"},
        {"evaluation_id": e, "audience": parties["Z"], "kind": "zone"},
        {"evaluation_id": e, "audience": parties["B"], "kind": "package", "parameter": "none"},
    ):
        site.call(fac, "POST", f"/api/v1/dialogues/{d}/releases", 422, json=body)
    page = site.call(fac, "GET", f"/d/{d}/analysis")
    form = {"csrf": csrf_of(page.text), "evaluation": e, "audience": parties["B"]}
    clash = {**form, "kind": "clash", "parameter": "s0-no-i2-2"}
    site.call(fac, "POST", f"/d/{d}/releases", 422, csrf=False, data=clash)
    path = f"/api/v1/dialogues/{d}/position"
    site.call(members["a1"], "PUT", path, 422, csrf=False, json=position_a)
    site.call(fac, "POST", "/api/v1/dialogues", 422, json={"title": title, "extra": title})
    wrong = canary("a wrong password", length=16)
    response = fac.client.post("/api/v1/session", json={"username": "a1", "password": wrong})
    assert response.status_code == 401
    site.errors.append(("POST /api/v1/session (wrong)", 401, response.text))
    # 409: the round is disclosed: no lock, no evaluation, no position
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds/current/lock", 409)
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds/current/evaluate", 409)
    site.call(members["a1"], "PUT", f"/api/v1/dialogues/{d}/position", 409, json=position_a)
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds", 201)
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/rounds", 409)
    body = {"evaluation_id": e, "audience": parties["A"], "kind": "zone"}
    site.call(fac, "POST", f"/api/v1/dialogues/{d}/releases", 409, json=body)
    site.call(fac, "POST", f"/d/{d}/releases", 409, csrf=False, data={**form, "kind": "zone"})
    # a negotiating text: clauses, proposed wordings and comments are canaries
    texts = f"/api/v1/dialogues/{d}/texts"
    body = {
        "title": canary("text title"),
        "clauses": [{"body": canary("clause 1", length=120)}, {"body": canary("clause 2")}],
    }
    t = site.call(fac, "POST", texts, 201, json=body).json()["id"]
    clauses = [c["id"] for c in site.call(fac, "GET", f"{texts}/{t}").json()["clauses"]]
    answers = {
        "a1": [
            {
                "clause_id": clauses[0],
                "answer": "bracket",
                "wording": canary("wording of A"),
                "comment": canary("comment of A", length=200),
            },
            {"clause_id": clauses[1], "answer": "ad_referendum", "comment": canary("comment A2")},
        ],
        "b1": [{"clause_id": clauses[0], "answer": "agree", "comment": canary("comment of B")}],
    }
    for name, given in answers.items():
        body = {"version": 1, "responses": given}
        site.call(members[name], "POST", f"{texts}/{t}/responses", json=body)
    release = {"side_id": parties["A"], "version": 1, "audience": parties["B"]}
    site.call(fac, "POST", f"{texts}/{t}/releases", 201, json=release)
    site.call(fac, "POST", f"{texts}/{t}/releases", 409, json=release)
    revised = [
        {"id": clauses[0], "body": canary("clause 1 amended")},
        {"id": clauses[1], "body": canary("clause 2 amended")},
    ]
    site.call(fac, "PUT", f"{texts}/{t}", json={"based_on": 1, "clauses": revised})
    site.call(fac, "PUT", f"{texts}/{t}", 409, json={"based_on": 1, "clauses": revised})
    stale = {"version": 1, "responses": answers["b1"]}
    site.call(members["b1"], "POST", f"{texts}/{t}/responses", 409, json=stale)
    bracket = [{"clause_id": clauses[0], "answer": "bracket", "comment": canary("comment b")}]
    site.call(
        members["b1"],
        "POST",
        f"{texts}/{t}/responses",
        422,
        json={"version": 2, "responses": bracket},
    )
    site.call(outsider, "GET", f"{texts}/{t}", 404)
    site.call(members["b1"], "PUT", f"{texts}/{t}", 404, json={"based_on": 2, "clauses": revised})
    seen = site.call(members["b1"], "GET", f"{texts}/{t}?version=1").json()
    theirs = [a for a in seen["clauses"][0]["answers"] if a["side_id"] == parties["A"]]
    assert theirs[0]["wording"] == answers["a1"][0]["wording"] and theirs[0]["comment"] is None
    # a meeting with its shared record, a request for changes and an agreed record
    meetings = f"/api/v1/dialogues/{d}/meetings"
    plan = {
        "starts": "2030-03-14T10:00",
        "zone": "Europe/Vienna",
        "place": canary("meeting place"),
        "items": [canary("free agenda item")],
    }
    m = site.call(fac, "POST", meetings, 201, json=plan).json()["id"]
    said = canary("shared record", length=120)
    site.call(fac, "PUT", f"{meetings}/{m}/record", json={"text": said})
    ask = {"version": 1, "answer": "changes", "comment": canary("request for changes")}
    site.call(members["a1"], "POST", f"{meetings}/{m}/record/answers", json=ask)
    site.call(fac, "PUT", f"{meetings}/{m}/record", json={"text": canary("second version")})
    for who in (members["a1"], members["b1"]):
        body = {"version": 2, "answer": "confirmed"}
        site.call(who, "POST", f"{meetings}/{m}/record/answers", json=body)
    assert site.call(fac, "GET", f"{meetings}/{m}/record").json()["agreed"] is True
    assert plan["place"] in site.call(members["b1"], "GET", f"/d/{d}/meetings/{m}").text
    note = {"text": canary("private note of A", length=80)}
    site.call(members["a1"], "PUT", f"{meetings}/{m}/note", json=note)
    assert note["text"] in site.call(members["a1"], "GET", f"/d/{d}/meetings/{m}").text
    site.call(fac, "GET", f"{meetings}/{m}/note", 404)
    paper = {"text": canary("non-paper", length=60), "days": 7}
    site.call(members["b1"], "POST", f"/api/v1/dialogues/{d}/nonpapers", 201, json=paper)
    assert paper["text"] in site.call(fac, "GET", f"/d/{d}/nonpapers").text
    site.call(
        members["a1"], "POST", f"/api/v1/dialogues/{d}/nonpapers", 422, json={**paper, "days": 0}
    )
    site.call(outsider, "GET", f"{meetings}/{m}", 404)
    site.call(members["b1"], "PUT", f"{meetings}/{m}/record", 404, json={"text": said})
    site.call(members["b1"], "POST", f"{meetings}/{m}/record/answers", 409, json=ask)
    site.call(fac, "POST", meetings, 422, json={**plan, "zone": canary("a wrong zone")[:60]})
    # the facilitator's escalation model, its analysis and a finding released to side A
    watch = f"/api/v1/dialogues/{d}/escalation"
    model = {
        "title": canary("escalation title"),
        "description": canary("escalation description", length=80),
        "decision_makers": [
            {"id": "A", "name": canary("decision maker A"), "options": ["strike"]},
            {"id": "B", "name": canary("decision maker B"), "options": ["talks"]},
        ],
        "options": [
            {"id": "strike", "name": canary("option strike"), "description": canary("why")},
            {"id": "talks", "name": canary("option talks")},
        ],
        "preferences": {
            "A": {"statements": ["talks", "-strike"]},
            "B": {"statements": ["-strike", "talks"]},
        },
        "status_quo": "NN",
        "state_names": {"NY": canary("state name")},
    }
    site.call(fac, "PUT", watch, json=model)
    assert (
        "NY"
        in site.call(fac, "GET", f"{watch}/analysis").json()["analysis"]["concepts"]["nash"][
            "equilibria"
        ]
    )
    assert model["title"] in site.call(fac, "GET", f"/d/{d}/escalation").text
    site.call(fac, "PUT", watch, 422, json={**model, "status_quo": "YYY"})
    site.call(fac, "GET", f"{watch}/explain?dm=A&state=YYY", 422)
    finding = {"audience": parties["A"], "kind": "path", "concept": "nash", "state": "NY"}
    site.call(fac, "POST", f"{watch}/releases", 201, json=finding)
    assert model["options"][1]["name"] in site.call(members["a1"], "GET", f"/d/{d}/releases").text
    site.call(fac, "POST", f"{watch}/releases", 409, json=finding)
    for who in (members["a1"], members["b1"], outsider):
        site.call(who, "GET", watch, 404)
        site.call(who, "GET", f"/d/{d}/escalation", 404)
        site.call(who, "GET", f"/d/{d}/escalation/graph.svg", 404)
    # a password change, with a new canary password
    new = canary("new password of b1", length=16)
    body = {"old": passwords["b1"], "new": new}
    site.call(members["b1"], "POST", "/api/v1/account/password", json=body)
    for who in (fac, outsider, *members.values()):
        who.client.close()
    statuses = {status for _, status, _ in site.errors}
    assert statuses == set(ERROR_STATUSES), statuses
    return site, d


def test_no_canary_reaches_the_disk_the_logs_or_an_error_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything,
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL, parameters and rows included
    platform = Platform.open(make_settings(tmp_path), upgrade=True)
    canary = Canaries()
    site, _ = run_the_flow(platform, canary)
    assert len(canary.values) >= 20 and len(site.errors) >= 25
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records), "SQL not logged"
    bodies = {f"{where} -> {status}": body.encode() for where, status, body in site.errors}
    while_open = {**database_files(platform), **captured(caplog), **bodies}
    assert any(name.endswith("-wal") and blob for name, blob in while_open.items())
    assert scan(canary.values, while_open) == []
    close(platform)  # the last connection checkpoints the WAL into the file
    assert scan(canary.values, database_files(platform)) == []


def test_the_scan_finds_a_canary_in_plaintext(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    platform = Platform.open(make_settings(tmp_path), upgrade=True)
    canary = Canaries()
    site, _ = run_the_flow(platform, canary)
    planted = canary("planted")
    raw = sqlite3.connect(platform.engine.url.database or "")
    raw.execute("CREATE TABLE scratch (note TEXT)")
    raw.execute("INSERT INTO scratch VALUES (?)", (planted,))
    raw.commit()
    raw.close()
    found = scan(canary.values, database_files(platform))
    assert found and {name for _, name in found} == {"planted"}, found
    close(platform)
    assert scan(canary.values, database_files(platform)), "lost after the checkpoint"
    # and in the other channels: a log record, an error body
    logging.getLogger("backchannel.web").info("oops %s", canary.values["note of A"])
    assert ("logs", "note of A") in scan(canary.values, captured(caplog))
    leaky = {"error": f"not found: {canary.values['dialogue title']}"}
    assert scan(canary.values, {"body": repr(leaky).encode()}) == [("body", "dialogue title")]
    assert site.errors


# ------------------------------------------------------------------ integrity
def execute(platform: Platform, sql: str, **values: Any) -> Any:
    with platform.engine.begin() as connection:
        return connection.execute(text(sql), values)


def blob(platform: Platform, table: str, column: str, key: str, value: str) -> bytes:
    found = execute(platform, f"SELECT {column} FROM {table} WHERE {key} = :v", v=value).scalar()
    assert isinstance(found, bytes) and len(found) >= 29
    return found


def put(platform: Platform, table: str, column: str, key: str, value: str, data: bytes) -> None:
    done = execute(platform, f"UPDATE {table} SET {column} = :b WHERE {key} = :v", b=data, v=value)
    assert done.rowcount == 1


@pytest.fixture
def evaluated(world: World) -> World:
    """The world with positions, an evaluation and a release to each side."""
    from .conftest import position_a, position_b

    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world, note="private note of A"))
    positions.save_position(p, world.actors["b1"], d, position_b(world, note="private note of B"))
    rounds.lock_round(p, f, d)
    evaluation = evaluations.evaluate(p, f, d)
    releases.release(p, f, d, evaluation, world.delegation_a, "zone")
    releases.release(p, f, d, evaluation, world.delegation_b, "package", "nash")
    chicken = Path(__file__).resolve().parents[2] / "examples" / "conflicts" / "chicken.yaml"
    escalation.import_model(p, f, d, chicken.name, chicken.read_bytes())
    return world


def one_id(platform: Platform, table: str, where: str = "1 = 1", **values: Any) -> str:
    found = execute(platform, f"SELECT id FROM {table} WHERE {where}", **values).scalars().all()
    assert found
    return str(found[0])


# (table, column, key column, reader) for each sealed field
def _readers(world: World) -> dict[str, tuple[str, str, Callable[[], str], Callable[[], Any]]]:
    p, d, actors = world.platform, world.dialogue_id, world.actors
    f, a1, b1 = actors["facilitator"], actors["a1"], actors["b1"]
    member = lambda: one_id(p, "members", "user_id = :u AND dialogue_id = :d", u=a1.user_id, d=d)  # noqa: E731
    return {
        "dialogue title": ("dialogues", "title_ct", lambda: d, lambda: dialogues.view(p, f, d)),
        "agenda": ("dialogues", "agenda_ct", lambda: d, lambda: dialogues.view(p, f, d)),
        "delegation name": (
            "delegations",
            "name_ct",
            lambda: world.delegation_b,
            lambda: dialogues.view(p, a1, d),
        ),
        "pseudonym": ("members", "pseudonym_ct", member, lambda: dialogues.view(p, b1, d)),
        "position": (
            "positions",
            "body_ct",
            lambda: one_id(p, "positions", "delegation_id = :x", x=world.delegation_a),
            lambda: positions.positions(p, a1, d),
        ),
        "evaluation": (
            "evaluations",
            "result_ct",
            lambda: one_id(p, "evaluations"),
            lambda: evaluations.evaluations(p, f, d),
        ),
        "evaluation inputs": (
            "evaluations",
            "inputs_ct",
            lambda: one_id(p, "evaluations"),
            lambda: evaluation_robustness.check(
                p, f, d, one_id(p, "evaluations"), rule=SettlementRule.NASH, noise=5, samples=50
            ),
        ),
        "escalation model": (
            "escalation_models",
            "body_ct",
            lambda: one_id(p, "escalation_models"),
            lambda: escalation.read_model(p, f, d),
        ),
        "release": (
            "releases",
            "body_ct",
            lambda: one_id(p, "releases", "audience = :x", x=world.delegation_a),
            lambda: releases.released_to_me(p, a1, d),
        ),
    }


FIELDS = (
    "dialogue title",
    "agenda",
    "delegation name",
    "pseudonym",
    "position",
    "evaluation",
    "evaluation inputs",
    "escalation model",
    "release",
)
SPOTS = {"format byte": 0, "nonce": 5, "ciphertext": 20, "tag": -1}


def tampered(reader: Callable[[], Any]) -> TamperedData:
    with pytest.raises(TamperedData) as caught:
        reader()
    assert "private note" not in str(caught.value) and "Side" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize("spot", sorted(SPOTS))
@pytest.mark.parametrize("name", FIELDS)
def test_a_flipped_bit_raises_tampered_data(evaluated: World, name: str, spot: str) -> None:
    table, column, key, reader = _readers(evaluated)[name]
    reader()  # intact, it opens
    row = key()
    data = bytearray(blob(evaluated.platform, table, column, "id", row))
    data[SPOTS[spot]] ^= 0x01
    put(evaluated.platform, table, column, "id", row, bytes(data))
    tampered(reader)


@pytest.mark.parametrize("name", FIELDS)
def test_a_truncated_blob_raises_tampered_data(evaluated: World, name: str) -> None:
    table, column, key, reader = _readers(evaluated)[name]
    row = key()
    data = blob(evaluated.platform, table, column, "id", row)
    put(evaluated.platform, table, column, "id", row, data[:20])
    tampered(reader)


def test_a_blob_moved_to_another_row_raises_tampered_data(evaluated: World) -> None:
    p, w = evaluated.platform, evaluated
    a = blob(p, "delegations", "name_ct", "id", w.delegation_a)
    b = blob(p, "delegations", "name_ct", "id", w.delegation_b)
    put(p, "delegations", "name_ct", "id", w.delegation_a, b)
    put(p, "delegations", "name_ct", "id", w.delegation_b, a)
    tampered(lambda: dialogues.view(p, w.actors["a1"], w.dialogue_id))
    # positions of A and B swapped: A would read B's position
    rows = {
        side: one_id(p, "positions", "delegation_id = :x", x=side)
        for side in (w.delegation_a, w.delegation_b)
    }
    bodies = {side: blob(p, "positions", "body_ct", "id", row) for side, row in rows.items()}
    put(p, "positions", "body_ct", "id", rows[w.delegation_a], bodies[w.delegation_b])
    error = tampered(lambda: positions.positions(p, w.actors["a1"], w.dialogue_id))
    assert "private note of B" not in str(error)


def test_a_blob_moved_to_another_column_raises_tampered_data(evaluated: World) -> None:
    p, d = evaluated.platform, evaluated.dialogue_id
    agenda = blob(p, "dialogues", "agenda_ct", "id", d)
    put(p, "dialogues", "title_ct", "id", d, agenda)
    tampered(lambda: dialogues.view(p, evaluated.actors["facilitator"], d))


def test_a_blob_moved_to_another_dialogue_raises_tampered_data(evaluated: World) -> None:
    p, w = evaluated.platform, evaluated
    f = w.actors["facilitator"]
    other = dialogues.create_dialogue(p, f, "Another dialogue")
    put(
        p,
        "dialogues",
        "title_ct",
        "id",
        w.dialogue_id,
        blob(p, "dialogues", "title_ct", "id", other),
    )
    tampered(lambda: dialogues.view(p, f, w.dialogue_id))


def test_swapped_dialogue_keys_open_nothing(evaluated: World) -> None:
    p, w = evaluated.platform, evaluated
    f = w.actors["facilitator"]
    other = dialogues.create_dialogue(p, f, "Another dialogue")
    mine = blob(p, "dialogue_keys", "wrapped", "dialogue_id", w.dialogue_id)
    theirs = blob(p, "dialogue_keys", "wrapped", "dialogue_id", other)
    put(p, "dialogue_keys", "wrapped", "dialogue_id", w.dialogue_id, theirs)
    put(p, "dialogue_keys", "wrapped", "dialogue_id", other, mine)
    # A process that reads the keys from the database (a restarted server) opens nothing.
    fresh = Platform.open(p.settings)
    tampered(lambda: dialogues.view(fresh, f, w.dialogue_id))
    tampered(lambda: positions.positions(fresh, w.actors["a1"], w.dialogue_id))
    tampered(lambda: dialogues.view(fresh, f, other))
    # The running one keeps the key it unwrapped before the swap (its key cache) and
    # never takes the swapped-in one: it still opens its own dialogue, the right one.
    assert dialogues.view(p, f, w.dialogue_id).title == "Channel talks"
    p.key_cache.forget()  # dropped: it reads the swapped keys and opens nothing
    tampered(lambda: dialogues.view(p, f, w.dialogue_id))
    tampered(lambda: dialogues.view(p, f, other))


def test_tampered_data_is_a_generic_500_on_the_web(
    evaluated: World, caplog: pytest.LogCaptureFixture
) -> None:
    p, d = evaluated.platform, evaluated.dialogue_id
    data = bytearray(blob(p, "dialogues", "title_ct", "id", d))
    data[-3] ^= 0x80
    put(p, "dialogues", "title_ct", "id", d, bytes(data))
    app = create_app(p.settings, p)
    facilitator = sign_in(app, "facilitator")
    with caplog.at_level(logging.DEBUG):
        page = facilitator.client.get(f"/d/{d}")
        api = facilitator.client.get(f"/api/v1/dialogues/{d}")
    assert page.status_code == 500 and "Something went wrong" in page.text
    assert api.status_code == 500
    assert api.json() == {"error": "internal error", "code": "internal error"}
    for body in (page.text, api.text):
        assert "Channel talks" not in body and "Ceasefire" not in body
    assert "TamperedData" in caplog.text and "Channel talks" not in caplog.text
    facilitator.client.close()


# ------------------------------------------------------------------ the key-encryption key
def test_a_wrong_key_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    platform = Platform.open(settings, upgrade=True)
    build_world(platform)
    close(platform)
    other = tmp_path / "other" / "kek.key"
    init_key_file(other)
    with pytest.raises(KeyFileError) as caught:
        Platform.open(make_settings(tmp_path, key_file=other))
    assert "does not match this database" in str(caught.value)
    assert caught.value.hint and "key file" in caught.value.hint
    with pytest.raises(KeyFileError, match="does not match this database"):
        Platform.open(make_settings(tmp_path, key_passphrase="a long passphrase, not the key"))
    close(Platform.open(settings))  # the right key still opens it


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    settings = make_settings(tmp_path)
    close(Platform.open(settings, upgrade=True))
    os.chmod(settings.key_file, mode)
    with pytest.raises(KeyFileError) as caught:
        Platform.open(settings)
    assert f"mode {mode:o}" in str(caught.value) and "readable by other users" in str(caught.value)
    assert caught.value.hint == f"run `chmod 600 {settings.key_file}`"
    os.chmod(settings.key_file, 0o600)
    close(Platform.open(settings))
