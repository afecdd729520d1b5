"""Fuzz the JSON API against its own OpenAPI description, signed in as each role.

Schemathesis generates requests from ``/api/openapi.json`` (schema-valid ones, and
schema-invalid ones) and checks every answer: no server error, a status the route
declares, a body of the declared shape and content type, schema-invalid input refused,
schema-valid input accepted where the description can say what is valid. Every example
is derived from a fixed seed (Hypothesis' ``derandomize``), so a run is repeatable.

The suite runs a bounded number of examples (``tests/dialogues/test_api_fuzz.py``);
this script runs as many as asked, on a fresh SQLite database::

    .venv/bin/python -m benchmarks.api_fuzz --examples 200

and prints, per role, the requests sent, the statuses seen and every failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from backchannel.web.once import HEADER, KEY

ROLES = ("facilitator", "member", "observer", "outsider", "anonymous")
"""Who sends the requests: a seat of each kind, an account with no seat, no session."""

FRESH_SESSION = ("/api/v1/session/end",)
"""Operations that end the caller's session: each example signs in anew first."""

REFERS_TO_RECORDS = {
    "PUT /api/v1/dialogues/{dialogue_id}/agenda": "issue names and ids are unique across "
    "issues, and a round past draft keeps its agenda",
    "PUT /api/v1/dialogues/{dialogue_id}/position": "every issue and option named must be "
    "on the agenda",
    "POST /api/v1/dialogues/{dialogue_id}/invitations": "a member's delegation must exist "
    "and a member needs a track",
    "POST /api/v1/dialogues/{dialogue_id}/releases": "the evaluation and the audience must "
    "exist and the parameter must fit the kind",
    "POST /api/v1/account/password": "the current password must be the right one and the "
    "new one must differ from it",
    "GET /api/v1/dialogues/{dialogue_id}/position": "the delegation named must be an absent "
    "stakeholder of the dialogue",
    "POST /api/v1/account/mfa/confirm": "the code must be the authenticator's current one",
    "POST /api/v1/account/mfa/recovery-codes": "the code must be the authenticator's current one",
    "POST /api/v1/account/mfa/disable": "the password and the code must be the right ones",
    "POST /api/v1/dialogues/{dialogue_id}/meetings": "the time zone must exist, the sides, "
    "issues, attendees and round must be the dialogue's, and the sides must fit the format",
    "PUT /api/v1/dialogues/{dialogue_id}/meetings/{meeting_id}": "the time zone must exist, "
    "the sides, issues, attendees and round must be the dialogue's, and the sides must fit "
    "the format",
    "POST /api/v1/dialogues/{dialogue_id}/meetings/{meeting_id}/record/answers": "a request "
    "for changes needs a comment",
    "GET /api/v1/dialogues/{dialogue_id}/readouts/draft": "the audience must be a delegation "
    "at the table, observers or all, and the language one the server speaks",
    "POST /api/v1/dialogues/{dialogue_id}/readouts": "the audience must exist and the basis "
    "must be the digest of the readout's current draft",
    "POST /api/v1/dialogues/{dialogue_id}/blind/nodes": "the certificate must be one PEM "
    "certificate that parses (never a key), the host a host name or an address",
    "POST /api/v1/dialogues/{dialogue_id}/blind/releases": "the audiences must be delegations "
    "at the table or observers, the issue one of the agenda",
    "POST /api/v1/blind/computations/{computation_id}/ready": "the issue indices must be the "
    "agenda's, each set of 2 or more distinct issues; a helper posts none",
    "POST /api/v1/blind/computations/{computation_id}/result": "the index must be the node's, "
    "the opened finding of the form of the finding asked for, opened or failed but not both",
}
"""Operations whose valid input depends on stored records or on another field, which an
OpenAPI description cannot state: a schema-valid request may be refused (422, with a
message saying why), so the check "schema-valid input is accepted" is not run on them.
Every other check is."""


@dataclass(frozen=True)
class Target:
    """What the fuzzer aims at: an app, a dialogue in it, and how each role signs in."""

    app: FastAPI
    dialogue_id: str
    usernames: dict[str, str]  # role -> user name (no entry: anonymous)
    password: str


@dataclass
class Report:
    """What one role's run found."""

    role: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # operation -> first failure

    def line(self) -> str:
        """One line: the role, the requests, the statuses and the number of failures."""
        seen = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.role:<12} {self.requests:>6} requests  [{seen}]  "
            f"{len(self.failures)} operations failing"
        )


def sign_in(target: Target, role: str) -> tuple[dict[str, str], dict[str, str]]:
    """The cookies and headers of a fresh session for ``role`` (none for anonymous)."""
    if role not in target.usernames:
        return {}, {}
    client = TestClient(target.app, base_url="http://testserver")
    body = {"username": target.usernames[role], "password": target.password}
    answer = client.post("/api/v1/session", json=body)
    answer.raise_for_status()
    return dict(client.cookies), {"X-CSRF-Token": answer.json()["csrf"]}


def fuzz(target: Target, role: str, examples: int, only: str = "") -> Report:
    """Run ``examples`` positive and ``examples`` negative examples of every operation
    (of those whose path contains ``only``)."""
    schema = schemathesis.openapi.from_dict(target.app.openapi())
    schema.app = target.app  # requests go to the app in process, not over the network
    report = Report(role)
    session = sign_in(target, role)
    for found in schema.get_all_operations():
        operation = found.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if only not in operation.path:
            continue
        excluded = []
        if label in REFERS_TO_RECORDS:
            excluded.append(schemathesis.checks.positive_data_acceptance)
        fresh = operation.path in FRESH_SESSION
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, examples, report, label, excluded, target, role, session, fresh)
    return report


def _run(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    report: Report,
    label: str,
    excluded: list[Callable[..., Any]],
    target: Target,
    role: str,
    session: tuple[dict[str, str], dict[str, str]],
    fresh: bool,
) -> None:
    parameters = {"dialogue_id": target.dialogue_id} if "{dialogue_id}" in operation.path else None
    strategy = operation.as_strategy(mode, path_parameters=parameters)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(case: Any) -> None:
        cookies, headers = sign_in(target, role) if fresh else session
        report.requests += 1
        _one_key_per_request(case)
        try:
            answer = case.call_and_validate(
                headers=headers, cookies=cookies, excluded_checks=excluded
            )
            report.statuses[answer.status_code] += 1
        except BaseException as failure:  # every failure is recorded, then shown
            if isinstance(failure, KeyboardInterrupt):
                raise
            report.failures.setdefault(f"{label} ({mode.value})", _describe(failure))

    try:
        one()
    except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
        assert mode is GenerationMode.NEGATIVE, label


def _one_key_per_request(case: Any) -> None:
    """A well-formed ``Idempotency-Key`` made unique: the generator repeats keys across
    examples, and a key sent again with another request is rightly refused (422), which
    says nothing about the operation. A malformed key is left as generated."""
    for name in list(case.headers or {}):
        if name.lower() == HEADER.lower() and KEY.fullmatch(str(case.headers[name])):
            case.headers[name] = f"fuzz-{uuid.uuid4()}"


def _describe(failure: BaseException) -> str:
    lines = [line for line in str(failure).splitlines() if line.strip()]
    return "\n".join(lines[:14])


def reports(target: Target, examples: int, roles: Iterable[str] = ROLES) -> list[Report]:
    """One :class:`Report` per role."""
    return [fuzz(target, role, examples) for role in roles]


def _seeded_target(folder: Path) -> Target:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from backchannel.services.platform import Platform
    from backchannel.web.app import create_app
    from conftest import PASSWORD, build_world, make_settings  # the suite's test world

    settings_ = make_settings(folder, allowed_hosts=("testserver",), evaluation_time_limit=5.0)
    platform = Platform.open(settings_, upgrade=True)
    world = build_world(platform)
    names = {"facilitator": "facilitator", "member": "a1", "observer": "observer"}
    names["outsider"] = "outsider"
    return Target(create_app(settings_, platform), world.dialogue_id, names, PASSWORD)


def main(argv: list[str] | None = None) -> int:
    """Fuzz a fresh test world; exit 1 when any check failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation, mode, role")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        target = _seeded_target(Path(folder))
        start = time.perf_counter()
        found = reports(target, args.examples)
        seconds = time.perf_counter() - start
    total = sum(r.requests for r in found)
    print(f"{total} requests in {seconds:.0f} s ({args.examples} examples per operation and mode)")
    for report in found:
        print(report.line())
        for where, text in report.failures.items():
            print(f"  {where}\n    " + text.replace("\n", "\n    "))
    return 1 if any(r.failures for r in found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
