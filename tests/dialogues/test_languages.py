"""English and Russian: how a request's language is chosen, the switch on every page,
messages that keep their msgid until shown, localised dates, the account's column.

The language is the account's choice, else the switch's cookie, else the browser's
``Accept-Language``, else English.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.dates import format_datetime
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from backchannel import i18n
from backchannel.errors import CaseFileError, CaseFileErrors, InputError, NotAllowedNow
from backchannel.messages import t_, t_n, verbatim
from backchannel.services import accounts, audit_log, positions
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from backchannel.web.language import COOKIE
from conftest import PASSWORD, World, build_world, close, make_settings

from .conftest import BASE_URL, Browserless, csrf_of, position_a, row_counts, sign_in

RU = i18n.translations("ru")


# ------------------------------------------------------------------ messages
def test_a_message_is_english_by_str_and_russian_when_rendered_so() -> None:
    message = t_("no account named {name}", name="'zed'")
    assert str(message) == "no account named 'zed'"
    assert message.render(RU) == "учётной записи с именем 'zed' нет"


def test_a_message_in_a_message_is_shown_in_the_same_language() -> None:
    message = t_("round {number} is still {state}", number=2, state=t_("locked"))
    assert str(message) == "round 2 is still locked"
    assert message.render(RU) == "раунд 2 всё ещё в состоянии «заблокирован»"


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (1, "the 1 evaluation of round 3 is used", "1 расчёт раунда 3 уже использован"),
        (2, "the 2 evaluations of round 3 are used", "2 расчёта раунда 3 уже использованы"),
        (5, "the 5 evaluations of round 3 are used", "5 расчётов раунда 3 уже использованы"),
        (21, "the 21 evaluations of round 3 are used", "21 расчёт раунда 3 уже использован"),
    ],
)
def test_plural_forms_follow_each_language(n: int, english: str, russian: str) -> None:
    message = t_n(
        "the {n} evaluation of round {number} is used",
        "the {n} evaluations of round {number} are used",
        n,
        number=3,
    )
    assert (str(message), message.render(RU)) == (english, russian)


def test_a_verbatim_text_is_never_looked_up() -> None:
    assert verbatim("Sign out").render(RU) == "Sign out"
    assert t_("Sign out").render(RU) == "Выйти"


def test_an_error_keeps_its_messages_and_shows_english_as_before() -> None:
    error = NotAllowedNow(t_("two-factor sign-in is not on"), hint=t_("set it up first"))
    assert (error.message, error.hint) == ("two-factor sign-in is not on", "set it up first")
    assert str(error) == "two-factor sign-in is not on (set it up first)"
    assert error.shown_in(RU) == ("двухфакторный вход не включён", "сначала настройте его")
    assert InputError("plain text").shown_in(RU) == ("plain text", None)


def test_located_file_problems_are_counted_in_the_readers_language() -> None:
    one = CaseFileError("case.yaml", ["issues", 0], t_("invalid input"), hint=t_("pick one"))
    two = CaseFileError("case.yaml", ["issues", 1], "bad")
    errors = CaseFileErrors([one, two, two])
    assert errors.message == "case.yaml: issues[0]: invalid input (pick one) (and 2 more problems)"
    assert errors.shown_in(RU)[0] == (
        "case.yaml: issues[0]: недопустимые данные (выберите её) (и ещё 2 ошибки)"
    )


# ------------------------------------------------------------------ negotiation
@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en-GB,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.4", "ru"),
        ("fr, en;q=0.1, ru;q=0.2", "ru"),
        ("ru;q=0, en", "en"),
        ("de", None),
        ("", None),
        (None, None),
        ("ru;q=zzz, en", "en"),
    ],
)
def test_accept_language_picks_the_most_preferred_served_language(
    header: str | None, language: str | None
) -> None:
    assert i18n.negotiate(header) == language


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LC_MESSAGES": "ru_RU", "LANG": "C.UTF-8"}, "ru"),
        ({"LANG": "C"}, "en"),
        ({}, "en"),
    ],
)
def test_the_cli_follows_the_posix_locale(environ: dict[str, str], language: str) -> None:
    assert i18n.from_environment(environ) == language


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(InputError) as refused:
        i18n.choose("de")
    assert refused.value.message == "'de' is not a language Backchannel speaks"
    assert refused.value.hint == "choose one of: en, ru"


def _lang(response: object) -> str:
    text = getattr(response, "text", "")
    start = text.index('<html lang="') + len('<html lang="')
    return str(text[start : text.index('"', start)])


def test_the_browser_language_then_english(app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL)
    assert _lang(client.get("/signin")) == "en"
    russian = client.get("/signin", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert _lang(russian) == "ru" and "Имя пользователя" in russian.text
    assert _lang(client.get("/signin", headers={"Accept-Language": "de"})) == "en"


def test_the_switch_sets_a_cookie_and_comes_back_to_the_page(app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL)
    page = client.get("/signin")
    assert 'name="next" value="/signin"' in page.text
    switched = client.post(
        "/language", data={"language": "ru", "next": "/signin"}, follow_redirects=False
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/signin"
    assert client.cookies.get(COOKIE) == "ru"
    again = client.get("/signin", headers={"Accept-Language": "en"})  # the cookie wins
    assert _lang(again) == "ru" and ">English</button>" in again.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil", "x"])
def test_the_switch_never_leaves_the_site(app: FastAPI, target: str) -> None:
    client = TestClient(app, base_url=BASE_URL)
    switched = client.post(
        "/language", data={"language": "ru", "next": target}, follow_redirects=False
    )
    assert switched.headers["location"] == "/"


def test_the_switch_refuses_a_language_it_does_not_speak(app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL)
    refused = client.post("/language", data={"language": "xx", "next": "/"})
    assert refused.status_code == 422
    assert "&#39;xx&#39; is not a language Backchannel speaks" in refused.text
    assert COOKIE not in client.cookies


def _signed_in_page(app: FastAPI, name: str) -> tuple[Browserless, str]:
    browser = sign_in(app, name)
    page = browser.client.get("/account/mfa")
    return browser, page.text


def test_signed_in_the_switch_needs_the_form_token_and_keeps_the_choice(
    app: FastAPI, world: World
) -> None:
    browser, page = _signed_in_page(app, "a1")
    client = browser.client
    forged = client.post("/language", data={"language": "ru", "next": "/account/mfa"})
    assert forged.status_code == 422 and "request refused" in forged.text
    assert accounts.current(world.platform, client.cookies.get("bc_session")).language is None
    switched = client.post(
        "/language",
        data={"language": "ru", "next": "/account/mfa", "csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert switched.headers["location"] == "/account/mfa"
    assert accounts.current(world.platform, client.cookies.get("bc_session")).language == "ru"
    # another browser (no cookie) of the same account, asking for English: the account wins
    elsewhere = sign_in(app, "a1").client
    shown = elsewhere.get("/account/mfa", headers={"Accept-Language": "en"})
    assert _lang(shown) == "ru" and "Двухфакторный вход" in shown.text
    api = elsewhere.get("/api/v1/dialogues/nothing", headers={"Accept-Language": "en"})
    assert api.json()["error"] == "не найдено"


def test_the_api_answers_errors_in_the_request_language_with_a_stable_code(
    app: FastAPI,
) -> None:
    client = TestClient(app, base_url=BASE_URL)
    body = {"username": "nobody", "password": "not the password at all"}
    english = client.post("/api/v1/session", json=body).json()
    russian = client.post("/api/v1/session", json=body, headers={"Accept-Language": "ru"}).json()
    assert english == {
        "error": "user name or password is wrong",
        "code": "user name or password is wrong",
    }
    assert russian == {
        "error": "неверное имя пользователя или пароль",
        "code": "user name or password is wrong",
    }


def test_a_schema_problem_is_told_in_the_request_language(app: FastAPI, world: World) -> None:
    browser = sign_in(app, "facilitator")
    answer = browser.client.post(
        "/api/v1/dialogues",
        json={"title": "Talks", "evaluations_per_round": 11},
        headers={"X-CSRF-Token": browser.csrf, "Accept-Language": "ru"},
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "evaluations_per_round: должно быть не больше 10",
        "code": "must be at most {le}",  # the problem's own code, the same in every language
        "field": "evaluations_per_round",
    }
    truth = browser.client.post(
        "/api/v1/dialogues",
        json={"title": "Talks", "evaluations_per_round": True},
        headers={"X-CSRF-Token": browser.csrf, "Accept-Language": "ru"},
    )
    assert truth.status_code == 422
    assert truth.json()["error"] == "evaluations_per_round: нужно целое число, а не true или false"
    assert truth.json()["code"] == "a whole number is needed, not true or false"


# ------------------------------------------------------------------ every page
def test_every_page_has_a_skip_link_an_icon_and_names_the_dialogue_and_round(
    app: FastAPI, world: World
) -> None:
    client = sign_in(app, "a1").client
    page = client.get(f"/d/{world.dialogue_id}/log").text
    assert '<a class="skip" href="#content">Skip to content</a>' in page
    assert '<main id="content">' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert "<title>Log · Channel talks · round 1 · Backchannel</title>" in page
    russian = client.get(f"/d/{world.dialogue_id}/log", headers={"Accept-Language": "ru"}).text
    assert "<title>Журнал · Channel talks · раунд 1 · Backchannel</title>" in russian
    assert "<title>Sign in · Backchannel</title>" in client.get("/signin").text


def test_the_icon_exists_at_both_addresses(app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL)
    for path in ("/favicon.ico", "/static/favicon.svg"):
        icon = client.get(path)
        assert icon.status_code == 200, path
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.content.startswith(b"<svg")


def test_dates_follow_the_page_language(app: FastAPI, world: World) -> None:
    positions.save_position(
        world.platform, world.actors["a1"], world.dialogue_id, position_a(world)
    )
    (entry, *_) = audit_log.entries(world.platform, world.actors["a1"], world.dialogue_id)
    client = sign_in(app, "a1").client
    for language in ("en", "ru"):
        page = client.get(f"/d/{world.dialogue_id}/log", headers={"Accept-Language": language})
        assert f"<td>{format_datetime(entry.at, 'short', locale=language)}</td>" in page.text
    assert (
        "позиция сохранена"
        in client.get(f"/d/{world.dialogue_id}/log", headers={"Accept-Language": "ru"}).text
    )


# ------------------------------------------------------------------ migration 0007
def test_migration_0007_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    accounts.set_language(platform, world.actors["a1"], "ru")
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    migrate.downgrade(engine, "0006")
    assert "language" not in {c["name"] for c in inspect(engine).get_columns("users")}
    assert row_counts(engine) == before
    migrate.upgrade(engine)
    assert row_counts(engine) == before
    engine.dispose()

    platform = Platform.open(settings)  # the choice went with the column: the browser's again
    done = accounts.sign_in(platform, "a1", PASSWORD, "x")
    assert isinstance(done, accounts.SignedIn)
    assert accounts.current(platform, done.token).language is None
    accounts.set_language(platform, world.actors["a1"], "ru")
    assert accounts.current(platform, done.token).language == "ru"
    with pytest.raises(InputError):
        accounts.set_language(platform, world.actors["a1"], "xx")
    close(platform)
