"""Issue 11 §5: the escalation watch in the platform.

* The facilitator builds a GMCR model on the page (or imports a conflict or ``.gmcr`` file);
  its analysis is the engine's, the same as ``backchannel conflict`` gives for the same
  conflict file; the what-if is the same as editing the file.
* A problem in the form is shown beside its field, naming the line, with the form as typed;
  a model too large for the page is refused with the limit and what to do.
* Only the facilitator reads or writes the model (everyone else: 404); saves are logged for
  the facilitator only.
* A released escalation finding reaches only its delegation, through ``releases``, and
  leaves the round's state as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from backchannel.errors import NotAllowedNow, NotFound
from backchannel.services import audit_log, escalation, releases, rounds
from backchannel.services.conflict import analyze_file
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from backchannel.web.escalation_form import typed_from_model
from conftest import World, build_world, close, make_settings

from .conftest import Browserless, row_counts

Clients = Callable[[str], Browserless]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
CUBA = EXAMPLES / "cuban_missile_crisis.yaml"

# The Cuban missile crisis of examples/conflicts, typed into the page's form.
FORM = {
    "title": "Cuban missile crisis",
    "dm:0:id": "US",
    "dm:0:name": "United States",
    "opt:0:0:id": "air_strike",
    "opt:0:0:rev": "forward_only",
    "opt:0:1:id": "blockade",
    "dm:0:prefs": "withdraw\n-escalate\n-air_strike\nblockade if -withdraw",
    "dm:1:id": "USSR",
    "opt:1:0:id": "withdraw",
    "opt:1:1:id": "escalate",
    "dm:1:prefs": "-air_strike\n-escalate\nwithdraw if blockade\n-withdraw",
    "infeasible": "withdraw & escalate",
}


def equilibria(watch: escalation.Watch) -> dict[str, list[str]]:
    report = watch.report
    return {
        c: [watch.conflict.state_string(int(s)) for s in report.equilibria[c]]
        for c in report.concepts
    }


def imported(world: World, path: Path = CUBA) -> None:
    f = world.actors["facilitator"]
    escalation.import_model(world.platform, f, world.dialogue_id, path.name, path.read_bytes())


def post_form(b: Browserless, d: str, form: dict[str, str], **headers: str) -> Any:
    return b.client.post(
        f"/d/{d}/escalation", data={"csrf": b.csrf, **form}, headers=headers, follow_redirects=False
    )


# ------------------------------------------------------------------ the engine's answers
def test_the_watch_gives_the_engines_analysis_of_the_file(world: World) -> None:
    imported(world)
    _, before, after = escalation.watch(
        world.platform, world.actors["facilitator"], world.dialogue_id
    )
    cli = analyze_file(CUBA, (*escalation.CONCEPTS, escalation.LIMITED), horizon=escalation.HORIZON)
    assert after is None
    assert equilibria(before) == {
        c: [cli.conflict.state_string(int(s)) for s in cli.report.equilibria[c]]
        for c in cli.report.concepts
    }
    assert before.paths is not None and before.names[before.conflict.state_index("NYYN")] == (
        "blockade, withdrawal"
    )


@pytest.mark.parametrize("kind", ["off", "irreversible"])
def test_the_what_if_is_the_same_as_editing_the_file(
    world: World, tmp_path: Path, kind: str
) -> None:
    imported(world)
    text = CUBA.read_text(encoding="utf-8")
    if kind == "off":  # blockade can no longer be taken: an infeasibility rule
        edited = text.replace(
            "  - {withdraw: true, escalate: true}",
            "  - {withdraw: true, escalate: true}\n  - {blockade: true}",
        )
        asked = escalation.WhatIf(off=("blockade",))
    else:  # withdrawing cannot be undone
        edited = text.replace(
            "{id: withdraw, name: Withdraw,",
            "{id: withdraw, name: Withdraw, reversibility: forward_only,",
        )
        asked = escalation.WhatIf(irreversible=("withdraw",))
    assert edited != text
    (tmp_path / "edited.yaml").write_text(edited, encoding="utf-8")
    f, d = world.actors["facilitator"], world.dialogue_id
    _, before, after = escalation.watch(world.platform, f, d, asked)
    # limited-move stability too (two movers), at the page's default horizon, as the CLI does
    concepts = (*escalation.CONCEPTS, escalation.LIMITED)
    cli = analyze_file(tmp_path / "edited.yaml", concepts, horizon=escalation.HORIZON)
    assert after is not None
    wanted = {
        c: [cli.conflict.state_string(int(s)) for s in cli.report.equilibria[c]]
        for c in cli.report.concepts
    }
    assert equilibria(after) == wanted
    assert equilibria(after) != equilibria(before)  # the what-if does change something


# ------------------------------------------------------------------ the page
def test_a_model_built_on_the_page_is_saved_sealed_and_analysed(
    world: World, clients: Clients
) -> None:
    f, d = clients("facilitator"), world.dialogue_id
    answer = post_form(f, d, FORM)
    assert answer.status_code == 303 and answer.headers["location"].endswith("/escalation#analysis")
    page = unescape(f.client.get(f"/d/{d}/escalation").text)
    assert "The escalation model was saved" in page
    cli = analyze_file(CUBA, ("seq",))
    seq = [cli.conflict.state_string(int(s)) for s in cli.report.equilibria["seq"]]
    row = re.search(r"sequential stability \(SEQ\)</th><td>(.*?)</td>", page)
    assert row and re.findall(r"<code>([YN]+)</code>", row.group(1)) == seq
    assert "The resulting rankings" in page and "<svg" in page and "state graph" in page
    stored = escalation.read_model(world.platform, world.actors["facilitator"], d)
    assert stored is not None and stored.revision == 1
    assert stored.model.preferences["US"].statements == FORM["dm:0:prefs"].splitlines()
    assert f'value="{FORM["dm:1:prefs"].splitlines()[2]}' not in page  # a textarea, not a field
    assert "withdraw if blockade" in page
    svg = f.client.get(f"/d/{d}/escalation/graph.svg?concept=nash")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<?xml") and 'data-state="NYYN"' in svg.text


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (
            {"dm:1:prefs": "-air_strike\nwithdraw if blockad"},
            "dm:1:prefs",
            "line 2: unknown option",
        ),
        ({"infeasible": "withdraw & escalate\nwithdraw | escalate"}, "infeasible", "line 2:"),
        ({"infeasible": "\n\nwithdraw & escalat"}, "infeasible", "line 3: unknown option"),
        ({"opt:1:1:id": "2escalate"}, "opt:1:1:id", "option id"),
        ({"dm:1:id": ""}, "dm:1:id", "has options or preferences but no id"),
        (
            {"opt:0:1:sq": "yes", "opt:1:1:sq": "yes", "opt:1:0:sq": "yes"},
            "status_quo",
            "infeasible",
        ),
    ],
)
def test_a_problem_is_shown_beside_its_field_and_line_with_the_form_kept(
    world: World, clients: Clients, change: dict[str, str], field: str, says: str
) -> None:
    f, d = clients("facilitator"), world.dialogue_id
    form = {**FORM, **change}
    answer = post_form(f, d, form)
    assert answer.status_code == 422, answer.text
    html = unescape(answer.text)
    found = re.search(rf'id="error-{re.escape(field)}" role="alert">([^<]*)', html)
    assert found and says in found.group(1), found and found.group(1)
    assert "Nothing was changed." in html
    for name in ("dm:0:prefs", "infeasible"):
        assert form[name] in html  # what was typed is still there
    assert escalation.read_model(world.platform, world.actors["facilitator"], d) is None


def test_a_model_too_large_for_the_page_is_refused_with_the_limit(
    world: World, clients: Clients
) -> None:
    form = {
        "title": "Large",
        "dm:0:id": "A",
        "dm:1:id": "B",
        "dm:0:prefs": "a0",
        "dm:1:prefs": "b0",
    }
    for k in range(6):
        form[f"opt:0:{k}:id"], form[f"opt:1:{k}:id"] = f"a{k}", f"b{k}"
    answer = post_form(clients("facilitator"), world.dialogue_id, form)
    assert answer.status_code == 422
    html = unescape(answer.text)
    assert "more than 1024 feasible states, the most the page analyses" in html
    assert "backchannel conflict analyze FILE" in html


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("model.txt", b"title: x", "is not a conflict file"),
        ("model.yaml", b"", "is empty"),
        ("model.yaml", b"x" * (escalation.MAX_UPLOAD_BYTES + 1), "is larger than 500,000 bytes"),
        ("model.yaml", b"title: x\ndecision_makers: 3\n", "model.yaml:2: decision_makers"),
    ],
)
def test_a_bad_import_is_refused_clearly(
    world: World, clients: Clients, name: str, data: bytes, says: str
) -> None:
    f, d = clients("facilitator"), world.dialogue_id
    answer = f.client.post(
        f"/d/{d}/escalation/import",
        data={"csrf": f.csrf},
        files={"file": (name, data, "application/octet-stream")},
    )
    assert answer.status_code == 422
    found = re.search(r'id="error-file" role="alert">([^<]*)', unescape(answer.text))
    assert found and says in found.group(1)


def test_a_gmcr_file_is_imported(world: World, clients: Clients, tmp_path: Path) -> None:
    from backchannel.services.conflict import convert_file

    convert_file(CUBA, tmp_path / "cuba.gmcr")
    f, d = clients("facilitator"), world.dialogue_id
    answer = f.client.post(
        f"/d/{d}/escalation/import",
        data={"csrf": f.csrf},
        files={"file": ("cuba.gmcr", (tmp_path / "cuba.gmcr").read_bytes(), "application/json")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    stored = escalation.read_model(world.platform, world.actors["facilitator"], d)
    assert stored is not None and stored.model.title == "Cuban missile crisis"


def test_saving_the_form_keeps_what_it_does_not_show(world: World, clients: Clients) -> None:
    """An imported explicit ranking and the state names survive a save of the form as
    the page fills it in."""
    chicken = EXAMPLES / "chicken.yaml"
    imported(world, chicken)
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    first = escalation.read_model(p, f, d)
    assert first is not None
    html = clients("facilitator").client.get(f"/d/{d}/escalation").text
    assert "ranks the states explicitly (imported)" in html
    form = {k: v[0] for k, v in typed_from_model(first.model).fields.items()}
    assert post_form(clients("facilitator"), d, form).status_code == 303
    again = escalation.read_model(p, f, d)
    assert again is not None and again.revision == 2
    assert again.model.preferences == first.model.preferences
    assert again.model.state_names == first.model.state_names
    assert again.model.status_quo == first.model.status_quo


def test_a_what_if_without_the_status_quo_says_so(world: World, clients: Clients) -> None:
    imported(world)
    f, d = clients("facilitator"), world.dialogue_id
    model = escalation.read_model(world.platform, world.actors["facilitator"], d)
    assert model is not None
    escalation.save_model(
        world.platform,
        world.actors["facilitator"],
        d,
        model.model.model_copy(update={"status_quo": "NYNN"}),
    )
    html = unescape(f.client.get(f"/d/{d}/escalation?off=blockade").text)
    assert "The status quo takes an option switched off" in html


def test_the_what_if_and_an_explanation_on_the_page(world: World, clients: Clients) -> None:
    imported(world)
    f, d = clients("facilitator"), world.dialogue_id
    html = unescape(
        f.client.get(f"/d/{d}/escalation?off=blockade&state=nnnn&dm=US&concept=gmr").text
    )
    assert '<th scope="col">Before</th><th scope="col">After</th>' in html
    assert "<del>NYYN</del>" in html  # the blockade's equilibrium is gone
    assert "NNNN is stable for US under this concept." in html
    assert "Improvement to" in html and "deterred" in html
    refused = unescape(f.client.get(f"/d/{d}/escalation?off=nuclear&state=NNYY&dm=USSR").text)
    assert "unknown option 'nuclear'" in refused and "the state NNYY is infeasible" in refused


def test_only_the_facilitator_reaches_the_model(world: World, clients: Clients) -> None:
    imported(world)
    d = world.dialogue_id
    for name in ("a1", "b1", "observer", "outsider"):
        who = clients(name)
        assert who.client.get(f"/d/{d}/escalation").status_code == 404
        assert who.client.get(f"/api/v1/dialogues/{d}/escalation").status_code == 404
        assert post_form(who, d, FORM).status_code == 404
        with pytest.raises(NotFound):
            escalation.read_model(world.platform, world.actors[name], d)
    log = audit_log.entries(world.platform, world.actors["a1"], d)
    assert "escalation.saved" not in [e.action for e in log]
    mine = audit_log.entries(world.platform, world.actors["facilitator"], d)
    assert [e.action for e in mine].count("escalation.saved") == 1


# ------------------------------------------------------------------ releases
def test_a_released_finding_reaches_only_its_delegation(world: World, clients: Clients) -> None:
    imported(world)
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    fac = clients("facilitator")
    form = {
        "csrf": fac.csrf,
        "audience": world.delegation_a,
        "kind": "path",
        "concept": "seq",
        "state": "NYYN",
    }
    answer = fac.client.post(f"/d/{d}/escalation/releases", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    mine = releases.released_to_me(p, world.actors["a1"], d)
    assert len(mine) == 1
    fact = mine[0].disclosed.escalation
    assert fact is not None and fact.state == "NYYN" and fact.concept == "seq"
    assert fact.taken == {"United States": ["Blockade"], "Soviet Union": ["Withdraw"]}
    assert fact.steps is not None and fact.steps[-1].state == "NYYN"
    page = unescape(clients("a1").client.get(f"/d/{d}/releases").text)
    assert "NYYN" in page and "sequential stability (SEQ)" in page
    for name in ("b1", "observer"):
        assert releases.released_to_me(p, world.actors[name], d) == []
    assert rounds.overview(p, f, d)[1][-1].state == "draft"  # the round is left as it was
    again = fac.client.post(f"/d/{d}/escalation/releases", data={**form, "csrf": fac.csrf})
    assert again.status_code == 409 and "already released" in again.text
    not_one = {**form, "csrf": fac.csrf, "state": "YNNY"}
    refused = fac.client.post(f"/d/{d}/escalation/releases", data=not_one)
    assert refused.status_code == 422 and "YNNY is not an equilibrium" in unescape(refused.text)
    assert 'value="YNNY"' in refused.text  # the form as typed
    to_observers = {**form, "csrf": fac.csrf, "audience": "observers", "kind": "equilibrium"}
    told = fac.client.post(f"/d/{d}/escalation/releases", data=to_observers)
    assert told.status_code == 200, told.text  # followed back to the escalation page
    (seen,) = releases.released_to_me(p, world.actors["observer"], d)
    assert seen.disclosed.escalation is not None and seen.disclosed.escalation.state == "NYYN"
    assert releases.released_to_me(p, world.actors["b1"], d) == []
    page = unescape(clients("observer").client.get(f"/d/{d}/releases").text)
    assert "NYYN" in page and "sequential stability (SEQ)" in page


def test_the_api_saves_analyses_explains_and_releases(world: World, clients: Clients) -> None:
    f, d = clients("facilitator"), world.dialogue_id
    base = f"/api/v1/dialogues/{d}/escalation"
    h = {"X-CSRF-Token": f.csrf}
    assert f.client.get(base).json() == {"revision": 0, "updated_at": None, "model": None}
    assert f.client.get(f"{base}/analysis").status_code == 409
    import yaml

    body = yaml.safe_load(CUBA.read_text(encoding="utf-8"))
    assert f.client.put(base, json=body, headers=h).json() == {"revision": 1}
    bad = {**body, "status_quo": "YYYY"}
    refused = f.client.put(base, json=bad, headers=h)
    assert refused.status_code == 422 and "status_quo" in refused.json()["error"]
    found = f.client.get(f"{base}/analysis", params={"off": "blockade"}).json()
    assert found["revision"] == 1 and found["analysis"]["states"] == 12
    assert "NYYN" in found["analysis"]["concepts"]["seq"]["equilibria"]
    assert "NYYN" not in found["whatif"]["concepts"]["seq"]["equilibria"]
    assert found["analysis"]["concepts"]["seq"]["paths"]["NYYN"][-1]["to"] == "NYYN"
    why = f.client.get(f"{base}/explain", params={"dm": "US", "state": "NNNN", "concept": "gmr"})
    assert why.status_code == 200 and why.json()["state"] == "NNNN"
    made = f.client.post(
        f"{base}/releases",
        json={
            "audience": world.delegation_b,
            "kind": "equilibrium",
            "concept": "nash",
            "state": "NYYN",
        },
        headers={**h, "Idempotency-Key": "escalation-1"},
    )
    assert made.status_code == 201
    seen = clients("b1").client.get(f"/api/v1/dialogues/{d}/releases").json()
    assert [r["kind"] for r in seen] == ["equilibrium"] and "NYYN" in seen[0]["headline"]


def test_the_page_speaks_russian(world: World, clients: Clients) -> None:
    imported(world)
    f, d = clients("facilitator"), world.dialogue_id
    html = unescape(f.client.get(f"/d/{d}/escalation", headers={"Accept-Language": "ru"}).text)
    assert "Наблюдение за эскалацией" in html and "Escalation watch" not in html
    assert "последовательная устойчивость (SEQ)" in html
    assert "граф состояний" in html  # the graph's own words too
    refused = post_form(
        f, d, {**FORM, "infeasible": "withdraw | escalate"}, **{"Accept-Language": "ru"}
    )
    assert refused.status_code == 422 and "строка 1" in unescape(refused.text)


# ------------------------------------------------------------------ migration 0013
def test_migration_0013_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    imported(world)
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["escalation_models"] == 1
    migrate.downgrade(engine, "0012")
    assert "escalation_models" not in inspect(engine).get_table_names()
    assert {k: v for k, v in row_counts(engine).items() if k != "escalation_models"} == {
        k: v for k, v in before.items() if k != "escalation_models"
    }
    migrate.upgrade(engine)
    assert row_counts(engine) == {**before, "escalation_models": 0}
    engine.dispose()

    platform = Platform.open(settings)  # the model went with the table: none, said clearly
    world = replace(world, platform=platform)
    with pytest.raises(NotAllowedNow):
        escalation.watch(platform, world.actors["facilitator"], world.dialogue_id)
    imported(world)  # and a new one can be saved
    close(platform)


# ------------------------------------------------------------------ limited-move stability
def test_limited_move_stability_is_shown_beside_the_other_concepts(
    world: World, clients: Clients
) -> None:
    """Two movers: L_h is analysed at the horizon asked (L_1 is Nash); a bad horizon is
    refused beside its field, the rest of the analysis still shown."""
    imported(world)
    f, d = clients("facilitator"), world.dialogue_id
    page = unescape(f.client.get(f"/d/{d}/escalation").text)
    assert "limited-move stability (L) with a horizon of 2 moves" in page
    assert 'name="horizon"' in page and 'value="2"' in page
    base = f"/api/v1/dialogues/{d}/escalation/analysis"
    one = f.client.get(base, params={"horizon": 1}).json()["analysis"]["concepts"]
    assert one["limited"]["equilibria"] == one["nash"]["equilibria"]
    three = f.client.get(base, params={"horizon": 3, "off": "blockade"}).json()
    assert "limited" in three["analysis"]["concepts"] and "limited" in three["whatif"]["concepts"]
    assert f.client.get(base, params={"horizon": 0}).status_code == 422
    kept = unescape(
        f.client.get(f"/d/{d}/escalation", params={"horizon": "99", "graph": "gmr"}).text
    )
    assert "the horizon '99' is not a number of moves" in kept
    assert "give a whole number from 1 to 12" in kept
    assert 'name="graph" value="gmr"' in kept  # the other asks kept in the horizon's form
    assert "general metarationality (GMR)" in kept  # the analysis is still there
    russian = unescape(f.client.get(f"/d/{d}/escalation", headers={"Accept-Language": "ru"}).text)
    assert "Limited-move" not in russian and "с горизонтом в 2 хода" in russian


def test_a_limited_move_equilibrium_is_released_with_its_horizon(
    world: World, clients: Clients
) -> None:
    """L_h findings go out like the others, naming the horizon; a path under L_h and a state
    that is not an L_h equilibrium at that horizon are refused beside their fields."""
    imported(world)
    p, d = world.platform, world.dialogue_id
    fac = clients("facilitator")
    base = f"/api/v1/dialogues/{d}/escalation/analysis"
    concepts = fac.client.get(base, params={"horizon": 3}).json()["analysis"]["concepts"]
    stable = concepts["limited"]["equilibria"]
    state = stable[0] if isinstance(stable[0], str) else stable[0]["state"]
    page = unescape(fac.client.get(f"/d/{d}/escalation").text)
    assert '<option value="limited"' in page and 'name="horizon" value="2"' in page
    form = {"csrf": fac.csrf, "audience": world.delegation_a, "kind": "equilibrium"}
    form |= {"concept": "limited", "state": state, "horizon": "3"}
    answer = fac.client.post(f"/d/{d}/escalation/releases", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    (seen,) = releases.released_to_me(p, world.actors["a1"], d)
    fact = seen.disclosed.escalation
    assert fact is not None and (fact.concept, fact.horizon, fact.state) == ("limited", 3, state)
    mine = unescape(clients("a1").client.get(f"/d/{d}/releases").text)
    assert "limited-move stability (L) with a horizon of 3 moves" in mine
    russian = clients("a1").client.get(f"/d/{d}/releases", headers={"Accept-Language": "ru"})
    assert "с горизонтом в 3 хода" in unescape(russian.text)
    tampered = {**form, "csrf": fac.csrf, "horizon": "99", "audience": world.delegation_b}
    refused_horizon = fac.client.post(f"/d/{d}/escalation/releases", data=tampered)
    assert refused_horizon.status_code == 422
    assert "give a whole number from 1 to 12" in unescape(refused_horizon.text)  # beside it
    path = {**form, "csrf": fac.csrf, "kind": "path", "audience": world.delegation_b}
    refused = fac.client.post(f"/d/{d}/escalation/releases", data=path)
    assert refused.status_code == 422
    assert "paths from the status quo are traced for nash" in unescape(refused.text)
    unstable = next(
        s
        for s in ("NNNN", "YNNN", "NYNN", "YYNN", "NNYN", "YNYN", "NYYN", "YYYN")
        if s not in {x if isinstance(x, str) else x["state"] for x in stable}
    )
    api = f"/api/v1/dialogues/{d}/escalation/releases"
    body = {"audience": world.delegation_b, "kind": "equilibrium", "concept": "limited"}
    headers = {"X-CSRF-Token": fac.csrf}
    wrong = fac.client.post(api, json={**body, "state": unstable, "horizon": 3}, headers=headers)
    assert wrong.status_code == 422 and "is not an equilibrium under L3" in wrong.json()["error"]
    made = fac.client.post(api, json={**body, "state": state, "horizon": 3}, headers=headers)
    assert made.status_code == 201, made.text
    (told,) = releases.released_to_me(p, world.actors["b1"], d)
    assert told.disclosed.escalation is not None and told.disclosed.escalation.horizon == 3


# ------------------------------------------------------------------ coalitions, misperceptions
def test_coalitions_and_misperceptions_are_edited_on_the_form(
    world: World, clients: Clients
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    fac = clients("facilitator")
    third = {"dm:2:id": "UN", "opt:2:0:id": "mediate", "dm:2:prefs": "mediate"}
    typed = {**FORM, **third, "coalitions": "US + UN", "misperceived": "USSR: YN-NN, NNYN-"}
    answer = post_form(fac, d, typed)
    assert answer.status_code == 303, re.findall(r'role="alert">(.{0,200})', answer.text)
    saved = escalation.read_model(p, f, d)
    assert saved is not None
    assert saved.model.coalitions == [["US", "UN"]]
    assert saved.model.misperceived == {"USSR": ["YN-NN", "NNYN-"]}
    page = unescape(fac.client.get(f"/d/{d}/escalation").text)
    assert ">US + UN</textarea>" in page and ">USSR: YN-NN, NNYN-</textarea>" in page
    # a save of the page as it fills itself in changes nothing; emptied fields remove them
    form = {k: v[0] for k, v in typed_from_model(saved.model).fields.items()}
    assert post_form(fac, d, form).status_code == 303
    again = escalation.read_model(p, f, d)
    assert again is not None and again.model == saved.model
    assert post_form(fac, d, {**form, "coalitions": "", "misperceived": ""}).status_code == 303
    emptied = escalation.read_model(p, f, d)
    assert emptied is not None
    assert (emptied.model.coalitions, emptied.model.misperceived) == ([], {})


def test_a_bad_coalition_or_misperception_is_shown_beside_its_line(
    world: World, clients: Clients
) -> None:
    fac, d = clients("facilitator"), world.dialogue_id
    for field, text, said in (
        ("coalitions", "# ours\nUS", "line 2: a coalition needs at least two decision makers"),
        ("misperceived", "USSR YNNN", "line 1: 'USSR YNNN' is not a misperception"),
        ("misperceived", "\nUSSR: YNNN, YN", "line 2:"),
    ):
        refused = post_form(fac, d, {**FORM, field: text})
        page = unescape(refused.text)
        assert refused.status_code == 422 and said in page, (field, text)
        assert f'id="{field}" name="{field}" rows="2" cols="60" aria-invalid="true"' in page
        assert f">{text}</textarea>" in page  # what was typed, kept
    russian = post_form(fac, d, {**FORM, "misperceived": "USSR YNNN"}, **{"Accept-Language": "ru"})
    assert "не описание ошибочного восприятия" in unescape(russian.text)


def test_the_models_checks_speak_russian(world: World, clients: Clients) -> None:
    """The conflict file's checks and the statements' parser, deep below the page, refuse in
    the reader's language, beside the field and line."""
    fac, d = clients("facilitator"), world.dialogue_id
    ru = {"Accept-Language": "ru"}
    for typed, said, english in (
        ({"dm:0:prefs": "withdraw &"}, "ожидался идентификатор варианта", "expected an option"),
        ({"dm:0:prefs": "withdrew"}, "неизвестный вариант 'withdrew'", "unknown option"),
        ({"coalitions": "US"}, "в коалиции должно быть не меньше двух", "a coalition needs"),
        ({"misperceived": "USSR: YYYY"}, "не соответствует ни одному", "matches no feasible"),
    ):
        page = unescape(post_form(fac, d, {**FORM, **typed}, **ru).text)
        assert said in page and english not in page, typed
