"""One mapper from errors to responses (``web/errors.py``), used by the API and the pages.

An analysis that cannot run on the dialogue's input is the user's to fix: 422 with its
message, on the API and on the dialogue page, never a 500. The form pages take the
status and the message from the same mapper: a rule of the round broken is 409 there as
on the API.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.errors import (
    AnalysisError,
    BackchannelError,
    DiskFull,
    InputError,
    InvalidAnswer,
    NotAllowedNow,
    NotFound,
    SignInRequired,
    TooManyAttempts,
)
from backchannel.services import positions, rounds
from backchannel.solvers import engine
from backchannel.web.errors import Shown, form_error, shown
from conftest import World

from .conftest import BASE_URL, Browserless, position_a, position_b

MESSAGE = "this case is beyond the engine"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound(), 404),
        (SignInRequired(), 401),
        (TooManyAttempts("wait"), 429),
        (DiskFull(), 503),
        (NotAllowedNow("locked"), 409),
        (InputError("bad"), 422),
        (AnalysisError("too big"), 422),
        (InvalidAnswer("a bug"), 500),
    ],
)
def test_each_error_has_one_status(error: BackchannelError, status: int) -> None:
    assert shown(error).status == status


def said(found: Shown) -> tuple[int, str, str | None]:
    """A Shown in English: its status, message and hint as text."""
    return found.status, str(found.message), None if found.hint is None else str(found.hint)


def test_missing_and_internal_errors_tell_nothing() -> None:
    assert said(shown(NotFound())) == (404, "not found", None)
    assert said(shown(InvalidAnswer("the validator caught it"))) == (500, "internal error", None)
    assert said(shown(InputError("bad", hint="fix it"))) == (422, "bad", "fix it")


def test_a_form_shows_only_what_the_user_can_fix() -> None:
    assert form_error(NotAllowedNow("locked")).status == 409
    assert said(form_error(DiskFull())) == (
        503,
        "the server's disk is full; your input was not saved",
        "try again later",
    )
    for other in (NotFound(), SignInRequired(), InvalidAnswer("a bug")):
        with pytest.raises(type(other)):
            form_error(other)


@pytest.fixture
def beyond_the_engine(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """A locked round whose evaluation raises AnalysisError in the engine."""
    p, d = world.platform, world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, world.actors["facilitator"], d)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AnalysisError(MESSAGE)

    monkeypatch.setattr(engine, "check", refuse)
    return world


def test_an_analysis_error_is_422_with_its_message_on_the_api(
    beyond_the_engine: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    d = beyond_the_engine.dialogue_id
    response = f.client.post(
        f"/api/v1/dialogues/{d}/rounds/current/evaluate", headers={"X-CSRF-Token": f.csrf}
    )
    assert response.status_code == 422, response.text
    assert response.json() == {"error": MESSAGE}
    (now,) = rounds.rounds(beyond_the_engine.platform, beyond_the_engine.actors["a1"], d)
    assert (now.state, now.evaluations_used) == ("locked", 0)


def test_an_analysis_error_shows_on_the_dialogue_page(
    beyond_the_engine: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    d = beyond_the_engine.dialogue_id
    response = f.client.post(f"/d/{d}/rounds/evaluate", data={"csrf": f.csrf, "confirm": "yes"})
    assert response.status_code == 422, response.text
    assert MESSAGE in response.text
    assert "Channel talks" in response.text  # the dialogue page, not the error page


def test_a_position_for_a_locked_round_is_409_on_the_page_as_on_the_api(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    d = world.dialogue_id
    rounds.lock_round(world.platform, world.actors["facilitator"], d)
    a1 = clients("a1")
    page = a1.client.post(f"/d/{d}/position", data={"csrf": a1.csrf, "walk_away": "10"})
    assert page.status_code == 409, page.text
    assert "positions are frozen" in page.text
    api = a1.client.put(
        f"/api/v1/dialogues/{d}/position", json={}, headers={"X-CSRF-Token": a1.csrf}
    )
    assert api.status_code == 409, api.text


def test_the_sign_in_page_answers_401_then_429_when_throttled(world: World, app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL)
    wrong = {"username": "a1", "password": "not the password at all"}
    allowed = world.platform.settings.login_failures_allowed
    for _ in range(allowed):
        response = client.post("/signin", data=wrong)
        assert response.status_code == 401
        assert "user name or password is wrong" in response.text
    throttled = client.post("/signin", data=wrong)
    assert throttled.status_code == 429
    assert "too many failed sign-ins" in throttled.text
    client.close()
