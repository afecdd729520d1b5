"""Two-factor sign-in (issue 12 §2): TOTP codes, recovery codes, requirements, storage.

* The RFC 6238 test vectors (SHA-1) go through the code path that checks codes.
* Enrolment and sign-in run through the web app; where a moment must be chosen (the
  time step of a code, replay, the throttle's window) the services are called with
  ``now``.
* A code works once: the same code, or an older one, is refused; a recovery code once.
* Wrong codes count in the throttle like wrong passwords, and a right password does not
  reset that count.
* An account, a setting or a dialogue can require two-factor sign-in; the account is
  sent to set it up first.
* The secret and the recovery codes never appear in the database files or the logs.
* Migration 0006 up and down with data, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from backchannel.cli import main
from backchannel.errors import (
    EnrolmentNeeded,
    InputError,
    NotFound,
    SignInRequired,
    TooManyAttempts,
)
from backchannel.services import accounts, audit_log, dialogues, mfa, rounds
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from backchannel.storage.tables import AuditEntryRow, LoginFailureRow, MfaRow, utcnow
from backchannel.storage.vault import TamperedData
from conftest import PASSWORD, World, build_world, close, make_settings, user

from .conftest import BASE_URL, Browserless, row_counts, sign_in
from .test_at_rest import captured, database_files, scan

T0 = datetime(2027, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A moment ``seconds`` after :data:`T0`."""
    return T0 + timedelta(seconds=seconds)


def code(secret: str, moment: datetime) -> str:
    return mfa.code_at(secret, mfa.step_of(moment))


def wrong(secret: str, moment: datetime) -> str:
    """A 6-digit code that is not good at ``moment`` (never one of the three good ones)."""
    step = mfa.step_of(moment)
    good = {mfa.code_at(secret, step + d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def enrol(platform: Platform, actor: Actor, moment: datetime = T0) -> tuple[str, list[str]]:
    """Turn the actor's two-factor sign-in on at ``moment``: its secret and recovery codes."""
    secret = mfa.begin(platform, actor).secret
    return secret, mfa.confirm(platform, actor, "", code(secret, moment), now=moment)


def audit(platform: Platform) -> list[AuditEntryRow]:
    """Every audit entry, oldest first."""
    with platform.view() as s:
        return list(s.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars())


def challenge(platform: Platform, name: str, moment: datetime, source: str = "test") -> str:
    found = accounts.sign_in(platform, name, PASSWORD, source, now=moment)
    assert isinstance(found, accounts.Challenge)
    return found.token


# ------------------------------------------------------------------ the codes
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_6238_SHA1 = [  # (T, the 8-digit code of RFC 6238 appendix B)
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("moment", "expected"), RFC_6238_SHA1)
def test_the_rfc_6238_vectors_through_the_code_check(moment: int, expected: str) -> None:
    """Our codes have 6 digits: the RFC's value mod 10^6, i.e. its last six digits."""
    now = datetime.fromtimestamp(moment, UTC)
    step = moment // 30
    assert mfa.step_of(now) == step
    assert mfa.code_at(RFC_SECRET, step) == expected[-6:]
    assert mfa.matching_step(RFC_SECRET, expected[-6:], now, 0) == step
    assert mfa.matching_step(RFC_SECRET, expected[-3:] + " " + expected[-6:-3], now, 0) is None
    assert mfa.matching_step(RFC_SECRET, expected[-6:-3] + " " + expected[-3:], now, 0) == step


def test_a_code_is_good_one_step_either_way_and_only_after_the_last_step() -> None:
    step = mfa.step_of(T0)
    for offset, allowed in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        typed = mfa.code_at(RFC_SECRET, step + offset)
        found = mfa.matching_step(RFC_SECRET, typed, T0, 0)
        assert (found == step + offset) is allowed, offset
    now_code = mfa.code_at(RFC_SECRET, step)
    assert mfa.matching_step(RFC_SECRET, now_code, T0, step) is None  # replay
    assert mfa.matching_step(RFC_SECRET, now_code, T0, step - 1) == step
    for junk in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        assert mfa.matching_step(RFC_SECRET, junk, T0, 0) is None


def test_recovery_codes_are_ten_distinct_60_bit_codes() -> None:
    codes = mfa.new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    for c in codes:
        assert len(c) == 14 and c.count("-") == 2
        assert set(c.replace("-", "")) <= set("abcdefghijklmnopqrstuvwxyz234567")


# ------------------------------------------------------------------ enrol, then sign in
def test_enrol_then_sign_in_with_a_code_over_the_api(app: FastAPI, world: World) -> None:
    a1 = sign_in(app, "a1")
    other = sign_in(app, "a1")  # another session, ended by the enrolment
    headers = {"X-CSRF-Token": a1.csrf}
    assert a1.client.get("/api/v1/account/mfa").json() == {
        "enabled": False,
        "required": False,
        "recovery_codes_left": 0,
        "pending": False,
    }
    begun = a1.client.post("/api/v1/account/mfa/begin", headers=headers).json()
    secret = begun["secret"]
    assert len(secret) == 32 and f"secret={secret}" in begun["uri"]
    assert begun["uri"].startswith("otpauth://totp/Backchannel:a1?")
    refused = a1.client.post(
        "/api/v1/account/mfa/confirm", headers=headers, json={"code": wrong(secret, utcnow())}
    )
    assert refused.status_code == 422 and refused.json()["error"] == "the code is wrong"
    step = mfa.step_of(utcnow())
    done = a1.client.post(
        "/api/v1/account/mfa/confirm",
        headers=headers,
        json={"code": mfa.code_at(secret, step)},
    )
    assert done.status_code == 200, done.text
    assert len(done.json()["recovery_codes"]) == 10
    assert a1.client.get("/api/v1/account/mfa").json()["enabled"] is True
    assert a1.client.get("/api/v1/dialogues").status_code == 200  # this session stays
    assert other.client.get("/api/v1/dialogues").status_code == 401  # the other one ended

    client = TestClient(app, base_url=BASE_URL)
    first = client.post("/api/v1/session", json={"username": "a1", "password": PASSWORD})
    assert first.json() == {"second_factor": True}
    assert "bc_session" not in first.cookies and "bc_signin" in first.cookies
    assert client.get("/api/v1/dialogues").status_code == 401  # no session yet
    second = client.post("/api/v1/session/code", json={"code": mfa.code_at(secret, step + 1)})
    assert second.status_code == 200, second.text
    assert set(second.json()) == {"csrf", "must_change_password", "must_enrol"}
    assert client.get("/api/v1/dialogues").status_code == 200
    again = client.post("/api/v1/session/code", json={"code": mfa.code_at(secret, step + 1)})
    assert again.status_code == 401  # the sign-in cookie is spent
    client.close()


def test_enrol_and_sign_in_through_the_pages(app: FastAPI, world: World) -> None:
    page = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    signed = page.post("/signin", data={"username": "b1", "password": PASSWORD})
    assert signed.headers["location"] == "/dialogues"
    form = page.get("/account/mfa").text
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    assert page.post("/account/mfa/begin", data={"csrf": csrf}).headers["location"] == (
        "/account/mfa"
    )
    shown = page.get("/account/mfa")
    assert "<svg" in shown.text and "data:" not in shown.text
    assert shown.headers["cache-control"] == "no-store"
    secret = shown.text.split('<code class="secret">')[1].split("<")[0]
    confirmed = page.post(
        "/account/mfa/confirm", data={"csrf": csrf, "code": code(secret, utcnow())}
    )
    assert confirmed.status_code == 200 and "Your recovery codes" in confirmed.text
    assert "Two-factor sign-in is on. 10 recovery codes left." in confirmed.text
    assert "Your recovery codes" not in page.get("/account/mfa").text  # shown once
    page.post("/signout", data={"csrf": csrf})

    first = page.post("/signin", data={"username": "b1", "password": PASSWORD})
    assert first.status_code == 303 and first.headers["location"] == "/signin/code"
    assert page.get("/dialogues").headers["location"] == "/signin"  # not signed in yet
    assert page.get("/signin/code").status_code == 200
    refused = page.post("/signin/code", data={"code": wrong(secret, utcnow())})
    assert refused.status_code == 401 and "the code is wrong" in refused.text
    later = mfa.code_at(secret, mfa.step_of(utcnow()) + 1)
    good = page.post("/signin/code", data={"code": later})
    assert good.status_code == 303 and good.headers["location"] == "/dialogues"
    assert page.get("/dialogues").status_code == 200
    page.close()


def test_the_code_step_refuses_other_sites(app: FastAPI, platform: Platform) -> None:
    """Login CSRF on the second step: no session is opened from another site."""
    actor = user(platform, "carol")
    secret, _ = enrol(platform, actor, utcnow() - timedelta(minutes=2))
    client = TestClient(app, base_url=BASE_URL)
    client.post("/api/v1/session", json={"username": "carol", "password": PASSWORD})
    typed = code(secret, utcnow())
    for path, kwargs in (
        ("/api/v1/session/code", {"json": {"code": typed}}),
        ("/signin/code", {"data": {"code": typed}}),
    ):
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = client.post(path, headers=headers, **kwargs)  # type: ignore[arg-type]
            assert refused.status_code == 422 and "bc_session" not in refused.cookies
    assert client.post("/api/v1/session/code", json={"code": typed}).status_code == 200
    client.close()


def test_the_code_body_refuses_unknown_fields(app: FastAPI, platform: Platform) -> None:
    """The positive control the shared worlds cannot give (no sign-in awaits a code there)."""
    actor = user(platform, "dora")
    secret, _ = enrol(platform, actor, utcnow() - timedelta(minutes=2))
    client = TestClient(app, base_url=BASE_URL)
    client.post("/api/v1/session", json={"username": "dora", "password": PASSWORD})
    typed = code(secret, utcnow())
    extra = client.post("/api/v1/session/code", json={"code": typed, "user_id": actor.user_id})
    assert extra.status_code == 422
    assert client.post("/api/v1/session/code", json={"code": typed}).status_code == 200
    client.close()


# ------------------------------------------------------------------ replay and recovery
def test_a_code_that_worked_never_works_again(platform: Platform) -> None:
    actor = user(platform, "erin")
    secret, _ = enrol(platform, actor, at(0))
    used = code(secret, at(60))
    accounts.complete_sign_in(platform, challenge(platform, "erin", at(60)), used, "x", at(60))
    for moment in (at(61), at(75)):  # the same code, in its own 30 s and the next step's
        token = challenge(platform, "erin", moment)
        with pytest.raises(InputError, match="the code is wrong"):
            accounts.complete_sign_in(platform, token, used, "x", moment)
    token = challenge(platform, "erin", at(62))
    older = code(secret, at(30))  # a code of an earlier step, still within the drift
    with pytest.raises(InputError, match="the code is wrong"):
        accounts.complete_sign_in(platform, token, older, "x", at(62))
    done = accounts.complete_sign_in(platform, token, code(secret, at(90)), "x", at(62))
    assert done.actor.username == "erin"  # the next step's code still works


def test_the_enrolment_code_cannot_sign_in(platform: Platform) -> None:
    actor = user(platform, "fay")
    secret, _ = enrol(platform, actor, at(0))
    token = challenge(platform, "fay", at(5))
    with pytest.raises(InputError):
        accounts.complete_sign_in(platform, token, code(secret, at(0)), "x", at(5))


def test_two_sign_ins_with_one_code_let_one_in(platform: Platform) -> None:
    actor = user(platform, "gus")
    secret, _ = enrol(platform, actor, at(0))
    tokens = [challenge(platform, "gus", at(40)) for _ in range(2)]
    typed = code(secret, at(40))
    accounts.complete_sign_in(platform, tokens[0], typed, "x", at(40))
    with pytest.raises(InputError):
        accounts.complete_sign_in(platform, tokens[1], typed, "x", at(40))


def test_a_recovery_code_works_once_and_ends_the_other_sessions(platform: Platform) -> None:
    actor = user(platform, "hal")
    secret, recovery = enrol(platform, actor, at(0))
    token = challenge(platform, "hal", at(30))
    kept = accounts.complete_sign_in(platform, token, code(secret, at(30)), "x", at(30))
    spoken = recovery[3].upper().replace("-", " ")  # read out over the phone
    token = challenge(platform, "hal", at(40))
    done = accounts.complete_sign_in(platform, token, spoken, "x", at(40))
    with pytest.raises(SignInRequired):
        accounts.current(platform, kept.token, at(41))
    assert accounts.current(platform, done.token, at(41)).actor.username == "hal"
    token = challenge(platform, "hal", at(50))
    with pytest.raises(InputError):
        accounts.complete_sign_in(platform, token, recovery[3], "x", at(50))
    assert mfa.status(platform, actor).recovery_codes_left == 9
    other = user(platform, "ivy")  # another account's code does not open this one
    _, theirs = enrol(platform, other, at(0))
    with pytest.raises(InputError):
        accounts.complete_sign_in(platform, token, theirs[0], "x", at(50))
    actions = [e.action for e in audit(platform)]
    assert actions.count("mfa.recovery_code_used") == 1
    assert actions.count("mfa.enabled") == 2


def test_new_recovery_codes_replace_the_old(platform: Platform) -> None:
    actor = user(platform, "jo")
    secret, old = enrol(platform, actor, at(0))
    with pytest.raises(InputError):
        mfa.replace_recovery_codes(platform, actor, old[0], "x", at(30))  # a code of the app
    new = mfa.replace_recovery_codes(platform, actor, code(secret, at(30)), "x", at(30))
    assert not set(new) & set(old)
    token = challenge(platform, "jo", at(40))
    with pytest.raises(InputError):
        accounts.complete_sign_in(platform, token, old[0], "x", at(40))
    accounts.complete_sign_in(platform, token, new[0], "x", at(40))


def test_turning_it_off_needs_the_password_and_a_code(platform: Platform) -> None:
    actor = user(platform, "kim")
    secret, recovery = enrol(platform, actor, at(0))
    token = challenge(platform, "kim", at(30))
    here = accounts.complete_sign_in(platform, token, code(secret, at(30)), "x", at(30))
    elsewhere = accounts.complete_sign_in(
        platform, challenge(platform, "kim", at(60)), code(secret, at(60)), "x", at(60)
    )
    digest = accounts.current(platform, here.token, at(61)).token_hash
    for password, typed in (
        ("not the password", code(secret, at(90))),
        (PASSWORD, wrong(secret, at(90))),
    ):
        with pytest.raises(InputError, match="the password or the code is wrong"):
            mfa.disable(platform, actor, digest, password, typed, "x", at(90))
    mfa.disable(platform, actor, digest, PASSWORD, recovery[0], "x", at(90))
    assert mfa.status(platform, actor).enabled is False
    assert isinstance(accounts.sign_in(platform, "kim", PASSWORD, "x", at(95)), accounts.SignedIn)
    accounts.current(platform, here.token, at(95))
    with pytest.raises(SignInRequired):
        accounts.current(platform, elsewhere.token, at(95))


# ------------------------------------------------------------------ the throttle
def test_wrong_codes_pause_the_pair_even_with_the_right_code(platform: Platform) -> None:
    actor = user(platform, "lee")
    secret, _ = enrol(platform, actor, at(0))
    allowed = platform.settings.login_failures_allowed
    held = challenge(platform, "lee", at(29), source="203.0.113.5")
    for k in range(allowed):  # a fresh password step each time: it must not reset the count
        token = challenge(platform, "lee", at(30 + k), source="203.0.113.5")
        with pytest.raises(InputError):
            typed = wrong(secret, at(30 + k))
            accounts.complete_sign_in(platform, token, typed, "203.0.113.5", at(30 + k))
    with pytest.raises(TooManyAttempts):  # the right code is refused unchecked
        accounts.complete_sign_in(platform, held, code(secret, at(40)), "203.0.113.5", at(40))
    with pytest.raises(TooManyAttempts):  # and so is the password, from there
        challenge(platform, "lee", at(40), source="203.0.113.5")
    other = challenge(platform, "lee", at(41), source="198.51.100.9")  # another place: not paused
    accounts.complete_sign_in(platform, other, code(secret, at(41)), "198.51.100.9", at(41))
    with platform.view() as s:
        rows = s.execute(select(LoginFailureRow)).scalars().all()
    assert len(rows) == allowed and all(r.second_factor for r in rows)


def test_a_sign_in_ends_after_too_many_wrong_codes(platform: Platform) -> None:
    actor = user(platform, "max")
    secret, _ = enrol(platform, actor, at(0))
    token = challenge(platform, "max", at(30))
    for k in range(platform.settings.login_failures_allowed):
        with pytest.raises(InputError):  # each from its own address: no pair is paused
            typed = wrong(secret, at(30 + k))
            accounts.complete_sign_in(platform, token, typed, f"192.0.2.{k}", at(30 + k))
    with pytest.raises(SignInRequired):
        accounts.complete_sign_in(platform, token, code(secret, at(40)), "192.0.2.99", at(40))


def test_a_sign_in_waits_a_few_minutes_at_most(platform: Platform) -> None:
    actor = user(platform, "ned")
    secret, _ = enrol(platform, actor, at(0))
    token = challenge(platform, "ned", at(30))
    late = at(30 + accounts.CHALLENGE_MINUTES * 60 + 1)
    with pytest.raises(SignInRequired):
        accounts.complete_sign_in(platform, token, code(secret, late), "x", late)


def test_wrong_codes_are_counted_in_the_audit_log_per_window(platform: Platform) -> None:
    actor = user(platform, "oli")
    secret, _ = enrol(platform, actor, at(0))
    for k in range(3):
        token = challenge(platform, "oli", at(30 + k))
        with pytest.raises(InputError):
            accounts.complete_sign_in(platform, token, wrong(secret, at(30 + k)), "x", at(30 + k))
    user(platform, "pat")
    accounts.sign_in(platform, "pat", PASSWORD, "y", at(300))  # any sign-in reports old windows
    entries = [e for e in audit(platform) if e.action == "signin.code_failed"]
    assert len(entries) == 1 and json.loads(entries[0].detail)["failures"] == 3
    assert entries[0].target == actor.user_id


# ------------------------------------------------------------------ who must use it
def test_an_account_the_operator_names_is_sent_to_set_it_up(
    app: FastAPI, platform: Platform, world: World, settings: object
) -> None:
    url, key = platform.settings.database_url, str(platform.settings.key_file)
    assert main(["users", "require-mfa", "a2", "--database", url, "--key-file", key]) == 0
    a2 = sign_in(app, "a2")
    assert a2.client.get("/api/v1/dialogues").status_code == 409
    refused = a2.client.get(f"/api/v1/dialogues/{world.dialogue_id}")
    assert refused.json()["error"] == "your account must use two-factor sign-in"
    assert a2.client.get("/api/v1/account/mfa").json()["required"] is True
    pages = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    signed = pages.post("/signin", data={"username": "a2", "password": PASSWORD})
    assert signed.headers["location"] == "/account/mfa"
    assert pages.get("/dialogues").headers["location"] == "/account/mfa"
    assert "must use two-factor sign-in" in pages.get("/account/mfa").text
    secret = a2.client.post("/api/v1/account/mfa/begin", headers={"X-CSRF-Token": a2.csrf})
    typed = code(secret.json()["secret"], utcnow())
    confirm = a2.client.post(
        "/api/v1/account/mfa/confirm", headers={"X-CSRF-Token": a2.csrf}, json={"code": typed}
    )
    assert confirm.status_code == 200
    assert a2.client.get("/api/v1/dialogues").status_code == 200
    pages.close()


def test_the_setting_requires_it_of_facilitators_or_everyone(tmp_path: Path) -> None:
    for policy, who in (("facilitators", {"facilitator"}), ("everyone", {"facilitator", "a1"})):
        settings = make_settings(tmp_path / policy, require_mfa_for=policy)
        platform = Platform.open(settings, upgrade=True)
        build_world(platform)
        for name in ("facilitator", "a1", "outsider"):
            done = accounts.sign_in(platform, name, PASSWORD, "x")
            assert isinstance(done, accounts.SignedIn)
            assert done.must_enrol is (name in who or policy == "everyone"), (policy, name)
            assert accounts.current(platform, done.token).must_enrol is done.must_enrol
        close(platform)


def test_a_dialogue_that_requires_it_opens_only_to_seats_that_use_it(
    app: FastAPI, world: World
) -> None:
    p, d = world.platform, world.dialogue_id
    f = sign_in(app, "facilitator")
    b1, outsider = sign_in(app, "b1"), sign_in(app, "outsider")
    response = f.client.put(
        f"/api/v1/dialogues/{d}/mfa", headers={"X-CSRF-Token": f.csrf}, json={"required": True}
    )
    assert response.json() == {"mfa_required": True}
    # the facilitator has not set it up either: the dialogue asks them first
    assert f.client.get(f"/api/v1/dialogues/{d}").status_code == 409
    enrol(p, world.actors["facilitator"], utcnow())
    enrol(p, world.actors["a1"], utcnow())
    view = sign_in_with_code(app, p, "a1", world).client.get(f"/api/v1/dialogues/{d}")
    assert view.status_code == 200 and view.json()["mfa_required"] is True
    assert {x["two_factor"] for x in view.json()["participants"]} == {None}
    refused = b1.client.get(f"/api/v1/dialogues/{d}")
    assert refused.status_code == 409 and "two-factor" in refused.json()["error"]
    assert b1.client.get(f"/api/v1/dialogues/{d}/log").status_code == 409
    listed = b1.client.get("/api/v1/dialogues").json()
    assert listed == [{"id": d, "title": dialogues.HIDDEN_TITLE, "role": "member"}]
    assert outsider.client.get(f"/api/v1/dialogues/{d}").status_code == 404  # no seat: as before
    with pytest.raises(EnrolmentNeeded):
        rounds.overview(p, world.actors["b1"], d)
    with pytest.raises(NotFound):
        rounds.overview(p, world.actors["outsider"], d)
    page = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    page.cookies.update(b1.client.cookies)
    assert page.get(f"/d/{d}").headers["location"] == "/account/mfa"
    # the facilitator (signed in again, with a code) sees who has not set it up
    seen = sign_in_with_code(app, p, "facilitator", world)
    people = {
        x["name"]: x["two_factor"]
        for x in seen.client.get(f"/api/v1/dialogues/{d}").json()["participants"]
    }
    assert people["A1"] is True and people["B1"] is False and people["Facilitator"] is True
    html = seen.client.get(f"/d/{d}").text
    assert "no two-factor sign-in" in html
    log = [e.action for e in audit_log.entries(p, world.actors["a1"], d)]
    assert "dialogue.mfa_required" in log  # every side sees the change
    page.close()


def sign_in_with_code(app: FastAPI, platform: Platform, name: str, world: World) -> Browserless:
    """A client signed in with a code, for an account enrolled by :func:`enrol`."""
    with platform.view() as s:
        row = s.get(MfaRow, world.actors[name].user_id)
        assert row is not None
        secret = mfa._open(platform, row)
    client = TestClient(app, base_url=BASE_URL)
    client.post("/api/v1/session", json={"username": name, "password": PASSWORD})
    typed = mfa.code_at(secret, mfa.step_of(utcnow()) + 1)
    answer = client.post("/api/v1/session/code", json={"code": typed})
    assert answer.status_code == 200, answer.text
    return Browserless(client, answer.json()["csrf"])


def test_a_dialogue_can_require_it_from_the_start(platform: Platform) -> None:
    f = user(platform, "quinn")
    d = dialogues.create_dialogue(platform, f, "Strict talks", mfa_required=True)
    with pytest.raises(EnrolmentNeeded):
        dialogues.view(platform, f, d)
    enrol(platform, f, utcnow())
    assert dialogues.view(platform, f, d).mfa_required is True


def test_the_operator_resets_a_lost_device(platform: Platform) -> None:
    actor = user(platform, "rae")
    secret, _ = enrol(platform, actor, at(0))
    token = challenge(platform, "rae", at(30))
    done = accounts.complete_sign_in(platform, token, code(secret, at(30)), "x", at(30))
    url, key = platform.settings.database_url, str(platform.settings.key_file)
    assert main(["users", "reset-mfa", "rae", "--database", url, "--key-file", key]) == 0
    with pytest.raises(SignInRequired):
        accounts.current(platform, done.token, at(31))
    assert isinstance(accounts.sign_in(platform, "rae", PASSWORD, "x", at(40)), accounts.SignedIn)
    assert main(["users", "reset-mfa", "nobody", "--database", url, "--key-file", key]) == 2


def test_a_password_reset_ends_a_sign_in_awaiting_its_code(platform: Platform) -> None:
    actor = user(platform, "sid")
    secret, _ = enrol(platform, actor, at(0))
    token = challenge(platform, "sid", at(30))  # whoever knew the old password
    accounts.reset_password(platform, "sid")
    with pytest.raises(SignInRequired):
        accounts.complete_sign_in(platform, token, code(secret, at(60)), "x", at(60))


def test_turning_two_factor_off_ends_a_sign_in_awaiting_its_code(platform: Platform) -> None:
    actor = user(platform, "ted")
    secret, _ = enrol(platform, actor, at(0))
    token = challenge(platform, "ted", at(30))
    url, key = platform.settings.database_url, str(platform.settings.key_file)
    assert main(["users", "reset-mfa", "ted", "--database", url, "--key-file", key]) == 0
    with pytest.raises(SignInRequired):
        accounts.complete_sign_in(platform, token, code(secret, at(60)), "x", at(60))


# ------------------------------------------------------------------ at rest
def test_the_secret_and_the_codes_never_reach_the_disk_or_the_logs(
    app: FastAPI, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user(platform, "sam")
    sam = sign_in(app, "sam")
    headers = {"X-CSRF-Token": sam.csrf}
    secret = sam.client.post("/api/v1/account/mfa/begin", headers=headers).json()["secret"]
    typed = code(secret, utcnow())
    recovery = sam.client.post(
        "/api/v1/account/mfa/confirm", headers=headers, json={"code": typed}
    ).json()["recovery_codes"]
    client = TestClient(app, base_url=BASE_URL)
    client.post("/api/v1/session", json={"username": "sam", "password": PASSWORD})
    assert client.post("/api/v1/session/code", json={"code": recovery[0]}).status_code == 200
    client.post("/api/v1/session", json={"username": "sam", "password": PASSWORD})
    client.post("/api/v1/session/code", json={"code": wrong(secret, utcnow())})  # a failure
    canaries = {"secret": secret, **{f"recovery {k}": c for k, c in enumerate(recovery)}}
    canaries |= {f"recovery {k} bare": c.replace("-", "") for k, c in enumerate(recovery)}
    sources = {**database_files(platform), **captured(caplog)}
    assert scan(canaries, sources) == []
    # the control: the same scan finds the secret once it is written in the clear
    with platform.unit() as s:
        s.execute(text("UPDATE users SET display_name = :v WHERE username = 'sam'"), {"v": secret})
    assert ("backchannel.db-wal", "secret") in scan(canaries, database_files(platform)) or (
        "backchannel.db",
        "secret",
    ) in scan(canaries, database_files(platform))
    client.close()


def test_a_secret_moved_to_another_account_does_not_open(platform: Platform) -> None:
    one, two = user(platform, "tia"), user(platform, "uma")
    enrol(platform, one, at(0))
    secret_two, _ = enrol(platform, two, at(0))
    with platform.unit() as s:
        rows = {r.user_id: r for r in s.execute(select(MfaRow)).scalars()}
        rows[two.user_id].secret_ct = rows[one.user_id].secret_ct
    token = challenge(platform, "uma", at(30))
    with pytest.raises(TamperedData):
        accounts.complete_sign_in(platform, token, code(secret_two, at(30)), "x", at(30))


# ------------------------------------------------------------------ migration 0006
def test_migration_0006_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    enrol(platform, world.actors["a1"], at(0))
    dialogues.set_mfa_required(platform, world.actors["facilitator"], world.dialogue_id, True)
    challenge(platform, "a1", at(30))
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["user_mfa"] == 1 and before["recovery_codes"] == 10
    assert before["signin_challenges"] == 1
    migrate.downgrade(engine, "0005")
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"user_mfa", "recovery_codes", "signin_challenges"}
    for table, column in (
        ("users", "mfa_required"),
        ("dialogues", "mfa_required"),
        ("login_failures", "second_factor"),
    ):
        assert column not in {c["name"] for c in inspect(engine).get_columns(table)}
    gone = {"user_mfa": 0, "recovery_codes": 0, "signin_challenges": 0}
    assert row_counts(engine) == {**before, **gone}  # nothing else went with them
    migrate.upgrade(engine)
    assert row_counts(engine) == {**before, **gone}
    with engine.begin() as connection:
        flags = connection.execute(text("SELECT mfa_required FROM dialogues")).scalars().all()
        assert flags == [False]
    engine.dispose()

    platform = Platform.open(settings)  # at head again: a1 signs in with the password alone
    done = accounts.sign_in(platform, "a1", PASSWORD, "x")
    assert isinstance(done, accounts.SignedIn)
    enrol(platform, world.actors["b1"], utcnow())
    assert isinstance(accounts.sign_in(platform, "b1", PASSWORD, "x"), accounts.Challenge)
    close(platform)
