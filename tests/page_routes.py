"""Every page of the app, who opens it, and a dialogue in which each one has something to
show: what the Russian page walk (``tests/dialogues``) and the accessibility tour
(``tests/browser``) both go through.

* :func:`route_entries`, :func:`declared_routes`: the app's routes, read from the app.
* :data:`WALK`: each page (a GET route answering HTML) and the demo accounts that open it;
  :func:`page_routes` lists the app's pages, so that a page added without an entry fails
  the tests that use them, named.
* :func:`prepare`: the demo (in English or Russian) taken through two evaluated rounds, with
  releases, a meeting with its record and notes, a non-paper, a negotiating text and a
  pending invitation; every demo account's password set to the shared test password.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from starlette.routing import Mount, Route

from backchannel.model.text import Draft
from backchannel.services import (
    accounts,
    computations,
    demo,
    dialogues,
    escalation,
    evaluations,
    meetings,
    nodes,
    nonpapers,
    notes,
    readouts,
    records,
    releases,
    rounds,
    texts,
)
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage import repo
from blind_world import certificate
from conftest import PASSWORD

SEATS = ("facilitator", "ru-1", "observer")
"""The demo accounts that open the pages: the facilitator, a member of Russia, the observer."""
VISITOR = "visitor"
"""No one signed in."""

WALK: dict[str, tuple[str, ...]] = {
    "/signin": (VISITOR,),
    "/signin/code": (VISITOR,),
    "/invite/{token}": (VISITOR,),
    "/account/password": SEATS,
    "/account/mfa": SEATS,
    "/dialogues": SEATS,
    "/d/{dialogue_id}": SEATS,
    "/d/{dialogue_id}/position": ("facilitator", "ru-1"),
    "/d/{dialogue_id}/rounds/evaluate": ("facilitator",),
    "/d/{dialogue_id}/analysis": ("facilitator",),
    "/d/{dialogue_id}/history": ("facilitator", "ru-1"),
    "/d/{dialogue_id}/releases": SEATS,
    "/d/{dialogue_id}/log": SEATS,
    "/d/{dialogue_id}/meetings": SEATS,
    "/d/{dialogue_id}/meetings/{meeting_id}": SEATS,
    "/d/{dialogue_id}/nonpapers": ("facilitator", "ru-1"),
    "/d/{dialogue_id}/texts": SEATS,
    "/d/{dialogue_id}/texts/{text_id}": SEATS,
    "/d/{dialogue_id}/texts/{text_id}/edit": ("facilitator",),
    "/d/{dialogue_id}/texts/{text_id}/diff": SEATS,
    "/d/{dialogue_id}/escalation": ("facilitator",),
    "/d/{dialogue_id}/readouts": SEATS,
    "/d/{dialogue_id}/readouts/draft": ("facilitator",),
    "/d/{dialogue_id}/blind": ("facilitator", "ru-1"),
}
"""Every page (a GET route answering HTML) and who opens it."""

NOT_PAGES = {
    "/": "a redirect to the sign-in page or the dialogues",
    "/favicon.ico": "the icon",
    "/d/{dialogue_id}/checkpoints": "a JSON file to download",
    "/d/{dialogue_id}/escalation/graph.svg": "the state graph as a file to download",
    "/d/{dialogue_id}/readouts/{readout_id}": "an issued readout, a file in its own language",
}
"""GET routes outside the API that answer no page."""


# ------------------------------------------------------------------ the route list
def route_entries(app: FastAPI) -> list[tuple[object, str, set[str]]]:
    """``(route, path, methods)`` of every route, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]
    except ImportError:  # older FastAPI: app.routes is already flat
        return [
            (r, getattr(r, "path", ""), set(getattr(r, "methods", None) or ())) for r in app.routes
        ]
    return [
        (c.original_route, c.path or "", set(c.methods or ()))
        for c in iter_route_contexts(app.routes)
    ]


def declared_routes(app: FastAPI) -> set[tuple[str, str]]:
    """``(method, path template)`` of every route the app answers (static files as GET)."""
    found: set[tuple[str, str]] = set()
    for route, path, methods in route_entries(app):
        if isinstance(route, Mount):
            found.add(("GET", f"{path}/{{path}}"))
        elif isinstance(route, Route):  # APIRoute included
            found |= {(method, path) for method in methods}
        else:
            raise AssertionError(f"a kind of route the matrix cannot classify: {route!r}")
    return found


def page_routes(app: FastAPI) -> set[str]:
    """Every GET route of the app outside the API, the static files and :data:`NOT_PAGES`."""
    return {
        path
        for method, path in declared_routes(app)
        if method == "GET" and not path.startswith(("/api/", "/static/")) and path not in NOT_PAGES
    }


# ------------------------------------------------------------------ the prepared demo
@dataclass(frozen=True)
class Prepared:
    """The ids the pages need, and what some of them show in a second state."""

    values: dict[str, str]
    first_evaluation: str
    absent: str
    actors: dict[str, Actor]

    def urls(self, template: str, seat: str) -> list[str]:
        """The addresses a seat opens for one route (some pages have several states)."""
        url = template.format(**self.values)
        if template.endswith("/blind"):  # the blind dialogue's page, with an opened finding
            return [template.format(dialogue_id=self.values["blind_dialogue"])]
        if template.endswith("/analysis"):
            return [url, f"{url}?evaluation={self.first_evaluation}"]
        if template.endswith("/position") and seat == "facilitator":
            return [f"{url}?delegation={self.absent}"]
        if template.endswith("/diff"):
            return [f"{url}?old=1&new=1"]
        if template.endswith("/readouts/draft"):  # the review of a readout in the page's language
            return [f"{url}?audience={self.values['audience']}&language={self.values['language']}"]
        return [url]


def actor_of(platform: Platform, username: str) -> Actor:
    """The account ``username`` as an actor."""
    with platform.unit() as s:
        row = repo.user_by_name(s, username)
    assert row is not None
    return Actor(row.id, row.username, row.display_name)


def prepare(platform: Platform, language: str) -> Prepared:
    """The demo in ``language``, with something on every page (see the module's docstring)."""
    made = demo.seed(platform, language=language)
    actors = {name: actor_of(platform, name) for name, *_ in demo.ACCOUNTS}
    for name, actor in actors.items():
        accounts.change_password(platform, actor, made.passwords[name], PASSWORD)
    p, f, d = platform, actors["facilitator"], made.dialogue_id
    view = dialogues.view(p, f, d)
    us, russia, ukraine = (party.id for party in view.delegations)

    # round 1: the whole agenda (red lines clash); a zone to Russia
    rounds.lock_round(p, f, d)
    first = evaluations.evaluate(p, f, d)
    releases.release(p, f, d, first, russia, "zone")
    # round 2: the partial deals only (issues 5-8), packages and a frontier
    rounds.open_round(p, f, d)
    for issue in view.agenda.issues[:4]:
        dialogues.remove_issue(p, f, d, issue.id)
    rounds.lock_round(p, f, d)
    second = evaluations.evaluate(p, f, d)
    rule = next(iter(evaluations.evaluations(p, f, d)[0].findings.packages))
    releases.release(p, f, d, second, us, "package", rule)
    releases.release(p, f, d, second, russia, "zone")
    releases.release(p, f, d, second, "observers", "zone")
    # round 3 open: the position forms can be filled in again
    rounds.open_round(p, f, d)

    russian = language == "ru"
    plan = meetings.MeetingPlan(
        starts="2030-03-14T10:00",
        zone="Europe/Vienna",
        place="Вена" if russian else "Vienna",
        items=["Повестка" if russian else "Agenda"],
    )
    meeting = meetings.schedule(p, f, d, plan)
    records.write(p, f, d, meeting, "Стороны обменялись мнениями." if russian else "Views.")
    notes.save_note(p, actors["ru-1"], d, meeting, "Наши заметки." if russian else "Ours.")
    nonpapers.circulate(p, f, d, "Проект для обсуждения." if russian else "A draft.", 30)
    body = "Стороны встречаются." if russian else "The parties meet."
    text = texts.create_text(p, f, d, "Коммюнике" if russian else "Communiqué", [Draft(body=body)])
    escalation.save_model(p, f, d, escalation.model_from_data(escalation_model(russian)))
    review = readouts.draft(p, f, d, russia, language)
    readouts.issue(p, f, d, russia, language, "html", "a4", review.basis)
    token = dialogues.invite(p, f, d, "member", delegation_id=us, track="expert")
    blind = _blind(p, actors, russian)
    values = {
        "blind_dialogue": blind,
        "dialogue_id": d,
        "meeting_id": meeting,
        "text_id": text,
        "token": token,
        "audience": russia,
        "language": language,
    }
    return Prepared(values, first, ukraine, actors)


BLIND_TITLE = {"ru": "Закрытые консультации", "en": "Blind consultations"}
"""The title of the blind dialogue :func:`prepare` adds (its page is in round 1)."""


def _blind(platform: Platform, actors: dict[str, Actor], russian: bool) -> str:
    """A blind dialogue of the demo's seats (ru-1 and us-1 register their sides' nodes,
    the facilitator a helper), whose nodes opened the recommended package of round 1."""
    p, f = platform, actors["facilitator"]
    title = BLIND_TITLE["ru" if russian else "en"]
    d = dialogues.create_dialogue(p, f, title, blind=True)
    issue = "Санкции" if russian else "Sanctions"
    options = ["сохранить", "ослабить"] if russian else ["keep", "ease"]
    dialogues.add_issue(p, f, d, issue, "unordered", options)
    sides = {}
    for username, name in (("ru-1", "Россия" if russian else "Russia"), ("us-1", "США")):
        sides[username] = dialogues.add_delegation(p, f, d, name)
        dialogues.add_member(
            p, f, d, username, "member", delegation_id=sides[username], track="expert"
        )
    helper = "Университет" if russian else "University"
    tokens = [
        nodes.register(p, actors[u], d, certificate(u)[0], "127.0.0.1", 40001 + k).token
        for k, u in enumerate(sides)
    ]
    tokens.append(nodes.register(p, f, d, certificate()[0], "127.0.0.1", 40003, label=helper).token)
    rounds.open_round(p, f, d)
    rounds.lock_round(p, f, d)
    computation = computations.request(p, f, d, "nash")
    callers = [nodes.authenticate(p, f"Bearer {token}") for token in tokens]
    for node in callers:
        computations.ready(p, node, computation, [])
    for index, node in enumerate(callers):
        opened = computations.Opened(None, True, (1,))
        computations.post_result(p, node, computation, index, opened, None)
    return d


def escalation_model(russian: bool) -> dict[str, object]:
    """A small escalation model in the page's language (ids are identifiers, kept short)."""
    names = (
        ("США", "Россия", "новые санкции", "удар по инфраструктуре")
        if russian
        else ("United States", "Russia", "new sanctions", "strikes on infrastructure")
    )
    return {
        "title": "Эскалация" if russian else "Escalation",
        "decision_makers": [
            {"id": "S", "name": names[0], "options": ["s1"]},
            {"id": "R", "name": names[1], "options": ["r1"]},
        ],
        "options": [{"id": "s1", "name": names[2]}, {"id": "r1", "name": names[3]}],
        "preferences": {"S": {"statements": ["-r1", "s1"]}, "R": {"statements": ["-s1", "r1"]}},
        "status_quo": "NN",
    }
