"""Every page in Russian: no English word left, dates and numbers in Russian form.

The Russian demo (``backchannel demo --language ru``) is taken through two evaluated rounds
(the whole agenda, where red lines clash; then the partial deals, with packages and a
frontier), releases, a meeting with its record and notes, a non-paper and a negotiating
text; then the facilitator, a member and an observer, whose accounts read Russian, and a
visitor whose browser asks for Russian, open every page the app serves. The routes are
read from the app: a page that is added without an entry in :data:`WALK` fails the test,
named. Each page's visible text and its ``title``, ``aria-label``, ``placeholder`` and
``alt`` attributes must hold no English word but the few names of :data:`NOT_ENGLISH`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.errors import InputError
from backchannel.formats.cases import load_case
from backchannel.model.dialogue import Position
from backchannel.services import accounts, demo, dialogues, evaluations, rounds
from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from backchannel.web.language import COOKIE
from conftest import make_settings
from page_routes import BLIND_TITLE, SEATS, VISITOR, WALK, Prepared, actor_of, page_routes, prepare
from still_english import NOT_ENGLISH, english_in

from .conftest import BASE_URL, sign_in

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ENGLISH_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
"""A decimal point (Russian writes a comma); a date's dots (07.12.2026) are not one."""
SKIPPED = {"script", "style", "code"}
"""Elements whose text is no prose of the page: script, styles, keys and links to copy."""
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


class Visible(HTMLParser):
    """The texts a reader sees or hears on a page, each as one string.

    Text inside an element marked with another language (``lang="en"``: the switch's
    "English") is that language's, and left out.
    """

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.open: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        skip = tag in SKIPPED or (lang is not None and lang != self.language)
        if not (skip or self._skipping()):
            self.texts += [v for k in ATTRIBUTES if (v := values.get(k))]
            button = tag == "input" and values.get("type") in ("submit", "button")
            if button and values.get("value"):
                self.texts.append(str(values["value"]))
        if tag not in VOID:
            self.open.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        for k in range(len(self.open) - 1, -1, -1):
            if self.open[k][0] == tag:
                del self.open[k:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._skipping():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str, language: str = "ru") -> list[str]:
    """The visible texts of a page (and its spoken attributes)."""
    parser = Visible(language)
    parser.feed(html)
    parser.close()
    return parser.texts


# ------------------------------------------------------------------ the Russian demo
@dataclass
class Walk:
    """The app on the prepared Russian demo and a client for each seat."""

    app: FastAPI
    prepared: Prepared
    clients: dict[str, TestClient]
    allowed: set[str]


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    settings = make_settings(tmp_path_factory.mktemp("russian-pages"))
    platform = Platform.open(settings, upgrade=True)
    prepared = prepare(platform, "ru")
    app = create_app(settings, platform)
    clients = {name: sign_in(app, name).client for name in SEATS}
    visitor = TestClient(app, base_url=BASE_URL, headers={"Accept-Language": "ru"})
    visitor.cookies.set("bc_signin", "a-sign-in-waiting-for-its-code")
    clients[VISITOR] = visitor
    # the accounts' user names are Latin: they are what one types to sign in
    yield Walk(app, prepared, clients, NOT_ENGLISH | set(prepared.actors))
    for client in clients.values():
        client.close()
    platform.close()


# ------------------------------------------------------------------ the tests
def test_every_page_of_the_app_is_walked(walk: Walk) -> None:
    routes = page_routes(walk.app)
    unwalked = sorted(routes - set(WALK))
    assert not unwalked, f"pages with no entry in WALK (add them, with who opens them): {unwalked}"
    assert not sorted(set(WALK) - routes), "WALK names routes the app no longer has"


def test_every_page_is_russian(walk: Walk) -> None:
    problems: list[str] = []
    walked = 0
    for template, seats in WALK.items():
        for seat in seats:
            for url in walk.prepared.urls(template, seat):
                answer = walk.clients[seat].get(url)
                where = f"{template} ({seat})"
                if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
                    problems.append(f"{where}: {answer.status_code}")
                    continue
                walked += 1
                assert '<html lang="ru">' in answer.text, where
                problems += [f"{where}: title {t!r}" for t in _title_problems(answer.text, walk)]
                texts = visible_texts(answer.text)
                problems += [f"{where}: {t!r}" for t in english_in(texts, walk.allowed)]
                problems += [
                    f"{where}: a date or number in English form: {t!r}"
                    for t in texts
                    if (ISO_DATE.search(t) or ENGLISH_DECIMAL.search(t))
                    and not t.startswith("Backchannel ")  # the version in the footer
                ]
    assert walked >= 40
    unique = list(dict.fromkeys(problems))
    assert not unique, "English on Russian pages:\n" + "\n".join(unique)


def _title_problems(html: str, walk: Walk) -> list[str]:
    """What is wrong with a page's title: it names the page, then (on a dialogue's page)
    the dialogue once and its round, then Backchannel."""
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    title = found.group(1) if found else ""
    parts = title.split(" · ")
    wrong = not parts[0] or parts[-1] != "Backchannel"
    if 'class="tabs"' in html:  # a page of the dialogue
        rounds_of = {demo.RUSSIAN.title: "раунд 3", BLIND_TITLE["ru"]: "раунд 1"}
        named = [p for p in parts if p in rounds_of]
        wrong = wrong or len(named) != 1 or rounds_of[named[0]] not in parts
    return [title] if wrong else []


def test_the_walk_finds_english(walk: Walk) -> None:
    """The check itself can fail: the English sign-in page is caught; the switch's own
    name (marked lang="en") and a key to copy (code) are not."""
    english = TestClient(walk.app, base_url=BASE_URL).get("/signin").text
    assert "Sign in" in english_in(visible_texts(english, "en"), set())
    russian = visible_texts(walk.clients[VISITOR].get("/signin").text)
    assert "English" not in " ".join(russian)
    texts = visible_texts('<p>Войти <span title="Sign out">x</span> <code>abc def</code></p>')
    assert english_in(texts, set()) == ["Sign out"]


def test_the_demo_pages_keep_the_language_cookie_out(walk: Walk) -> None:
    """The accounts read Russian because they chose it, not because of a cookie."""
    assert COOKIE not in walk.clients["facilitator"].cookies


def test_the_russian_demo_names_every_issue_option_and_party() -> None:
    case = load_case(demo.EXAMPLE)
    assert set(demo.RUSSIAN.issues) == {i.name for i in case.issues}
    options = {o if isinstance(o, str) else o.name for i in case.issues for o in i.options or []}
    assert set(demo.RUSSIAN.options) == options
    assert set(demo.RUSSIAN.parties) == {p.name for p in case.parties}
    words = [*demo.RUSSIAN.options.values(), *(n for n, _ in demo.RUSSIAN.issues.values())]
    assert english_in(words, NOT_ENGLISH) == []


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_demo_is_seeded_in_each_language(tmp_path: Path, language: str) -> None:
    platform = Platform.open(make_settings(tmp_path), upgrade=True)
    made = demo.seed(platform, language=language)
    facilitator = actor_of(platform, "facilitator")
    view = dialogues.view(platform, facilitator, made.dialogue_id)
    names = [party.name for party in view.delegations]
    issue = view.agenda.issues[0]
    if language == "ru":
        assert view.title == demo.RUSSIAN.title
        assert names == ["США", "Россия", "Украина"]
        assert issue.name == "Территория"
        assert issue.options[1] == "заморозка по линии соприкосновения"
    else:
        assert view.title.startswith("US–Russia track 1.5 dialogue")
        assert names == ["US", "Russia", "Ukraine"]
        assert (issue.name, issue.options[1]) == ("Territory", "freeze on line of contact")
    chosen = accounts.sign_in(platform, "facilitator", made.passwords["facilitator"], "x")
    assert isinstance(chosen, accounts.SignedIn)
    assert accounts.current(platform, chosen.token).language == ("ru" if language == "ru" else None)
    # the positions name the options the agenda shows: round 1 evaluates
    rounds.lock_round(platform, facilitator, made.dialogue_id)
    evaluations.evaluate(platform, facilitator, made.dialogue_id)
    (found,) = evaluations.evaluations(platform, facilitator, made.dialogue_id)
    assert found.findings.zone is False  # the whole agenda: the red lines clash
    again = demo.seed(platform, language=language)
    assert (again.created, again.dialogue_id) == (False, made.dialogue_id)
    platform.close()


def test_the_demo_refuses_a_language_it_is_not_written_in(tmp_path: Path) -> None:
    platform = Platform.open(make_settings(tmp_path), upgrade=True)
    with pytest.raises(InputError) as refused:
        demo.seed(platform, language="de")
    assert refused.value.hint == "choose one of: en, ru"
    platform.close()


# ------------------------------------------------------------------ errors from deeper down
BAD_UPLOADS = {
    "agenda.txt": b"Water: a; b",  # not a case file
    "empty.yaml": b"  \n",
    "list.yaml": b"- a\n- b\n",  # not a mapping
    "missing.yaml": b"title: t\nissues:\n  - options: [a, b]\n",  # no name; no parties
    "unknown.yaml": b"title: t\nissues:\n  - name: W\n    options: [a, b]\n    colour: red\n",
    "twice.yaml": b"title: t\ntitle: u\n",  # a duplicate key
    "kind.yaml": b"title: t\nissues:\n  - name: W\n    options: [a, b]\n    kind: round\n",
    "numbers.json": b'{"title": "t", "issues": 3, "parties": []}',
    "binary.yaml": b"title: \x80\x81\n",  # not UTF-8
    "control.yaml": b"title: t\x07\n",
    "domain.xml": b"<negotiation_template><utility_space><objective/></utility_space>"
    b"</negotiation_template>",  # a Genius domain with no issues
}
FILE_WORDS = {
    "agenda", "txt", "empty", "list", "missing", "unknown", "twice", "kind", "numbers",
    "binary", "control", "domain",  # the uploads' names
    "title", "issues", "parties", "name", "options", "colour", "range", "description",
    "source", "round", "unordered", "ordered", "numeric", "int", "issue", "utility_space",
    "objective", "utility", "space", "docs", "reference", "case", "file", "md", "GeniusWeb",
    "UTF",
}  # fmt: skip
"""Latin words an import error may hold: the file's own name, its keys and values, and the
format's names (what the facilitator must type in the file)."""


def _error_of(page: str) -> str:
    """The texts of a page's error messages, together."""
    found = re.findall(r"<p class=\"error\"[^>]*>(.*?)</p>", page, re.S)
    assert found, page[:2000]
    return " ".join(t for html in found for t in visible_texts(html))


def test_a_bad_case_file_is_explained_in_russian(walk: Walk) -> None:
    """The agenda import's errors come from the formats' readers, deep below the pages:
    each is in Russian, and still says where (the file, its line) and how to fix it."""
    f = sign_in(walk.app, "facilitator")
    d = walk.prepared.values["dialogue_id"]
    problems = []
    for name, data in BAD_UPLOADS.items():
        answer = f.client.post(
            f"/d/{d}/issues/import", data={"csrf": f.csrf}, files={"file": (name, data)}
        )
        assert answer.status_code == 422, (name, answer.status_code)
        error = _error_of(answer.text)
        assert name in error, error  # where: the file by its own name
        problems += [f"{name}: {t!r}" for t in english_in([error], walk.allowed | FILE_WORDS)]
    missing = f.client.post(f"/d/{d}/issues/import", data={"csrf": f.csrf})
    problems += [f"no file: {t!r}" for t in english_in([_error_of(missing.text)], walk.allowed)]
    assert not problems, "English in import errors:\n" + "\n".join(problems)


def test_a_position_or_an_evaluation_refused_by_the_model_speaks_russian() -> None:
    """The model's refusals (a condition naming another issue's option, the issue 10 case;
    a condition on one issue; an evaluation with nothing to evaluate) reach a Russian reader
    in Russian, with the names as they were typed."""
    from backchannel.i18n import translations
    from backchannel.model.dialogue import (
        Agenda,
        AgendaIssue,
        IfThen,
        Side,
        build_case,
        check_position,
    )

    russian = translations("ru")
    agenda = Agenda(
        issues=[
            AgendaIssue(id="i1", name="Missile defence", kind="ordered", options=["None", "Some"]),
            AgendaIssue(id="i2", name="Warheads", kind="ordered", options=["Cut to 800", "Keep"]),
        ]
    )
    wrong = IfThen(if_issue="i1", if_options=["None"], then_issue="i1", then_options=["Keep"])
    itself = IfThen(if_issue="i1", if_options=["None"], then_issue="i1", then_options=["Some"])
    names = {"Missile", "defence", "None", "Some", "Cut", "Warheads", "Keep"}
    refusals = []
    for rule in (wrong, itself):
        with pytest.raises(InputError) as caught:
            check_position(agenda, Position(rules=[rule]))
        refusals.append(caught.value)
    for agenda_given, sides in (
        (Agenda(issues=[]), []),
        (agenda, [Side(name="A", position=Position())]),
    ):
        with pytest.raises(InputError) as caught:
            build_case("t", agenda_given, sides)
        refusals.append(caught.value)
    shown = [" ".join(filter(None, error.shown_in(russian))) for error in refusals]
    assert "'Keep'" in shown[0] and "'Missile defence'" in shown[0]
    assert english_in(shown, NOT_ENGLISH | names) == []
