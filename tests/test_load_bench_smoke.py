"""Smoke tests of the load test (``benchmarks/load_bench.py``).

Nothing is timed and Locust is not needed: the percentile computation, the summaries,
the target comparison, the loopback guard and the generated request bodies are checked
on known numbers, and one request of every type of the mix is sent, in process, to the
world the load test seeds (a type that errors fails the test).
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from backchannel.config import Settings
from backchannel.model.case import IssueKind
from backchannel.model.dialogue import Agenda, AgendaIssue, Position, check_position
from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from benchmarks import load_bench


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench


def test_nearest_rank_percentiles_on_known_numbers(bench: ModuleType) -> None:
    hundred = [float(k) for k in range(100, 0, -1)]  # unsorted on purpose
    assert bench.percentile(hundred, 50) == 50
    assert bench.percentile(hundred, 95) == 95
    assert bench.percentile(hundred, 99) == 99
    assert bench.percentile(hundred, 100) == 100
    assert bench.percentile(hundred, 0.5) == 1
    ten = [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 1000]
    assert bench.percentile(ten, 50) == 50
    assert bench.percentile(ten, 95) == 1000  # rank ceil(9.5) = 10: the outlier counts
    assert bench.percentile([3.0, 1.0, 2.0], 50) == 2
    assert bench.percentile([7.0], 99) == 7


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_percentile_refuses_bad_input(bench: ModuleType, q: float) -> None:
    with pytest.raises(ValueError):
        bench.percentile([1.0, 2.0], q)
    with pytest.raises(ValueError):
        bench.percentile([], 50)


def test_summaries_per_type_and_overall(bench: ModuleType) -> None:
    Sample = bench.Sample
    samples = [Sample("rounds GET", float(ms), 200, True) for ms in range(1, 11)]
    samples += [
        Sample("position PUT", 100.0, 200, True),
        Sample("position PUT", 300.0, 500, False),
    ]
    rows = bench.summaries(samples, 2.0, bench.MIX)
    assert [r.name for r in rows] == ["rounds GET", "position PUT", "overall"]
    rounds, put, overall = rows
    assert (rounds.count, rounds.errors, rounds.p50, rounds.p99, rounds.max) == (10, 0, 5, 10, 10)
    assert rounds.rate == 5.0
    assert (put.count, put.errors, put.p50, put.p95) == (2, 1, 100, 300)
    assert (overall.count, overall.errors, overall.p99, overall.rate) == (12, 1, 300, 6.0)
    assert bench.error_kinds(samples) == {("position PUT", 500): 1}
    empty = bench.summarize("log GET", [], 1.0)
    assert empty.count == 0 and math.isnan(empty.p99)
    text = bench.table(rows)
    assert "| **overall** | 12 | 1 |" in text
    assert text.splitlines()[0].startswith("| request | count | errors | p50 ms")


def _summary(bench: ModuleType, p95: float, p99: float, errors: int = 0) -> object:
    return bench.Summary("x", 100, errors, 10.0, p95, p99, p99, 50.0)


def test_targets_are_strict_upper_bounds(bench: ModuleType) -> None:
    good = bench.check_targets(_summary(bench, 90, 99.9), _summary(bench, 999.9, 1000), 50)
    assert [v.met for v in good] == [True, True, True, True]
    assert good[0].label == "p99 latency, 50 users" and good[0].limit == 100
    edge = bench.check_targets(_summary(bench, 100, 100.0), _summary(bench, 1000.0, 1200), 50)
    assert [v.met for v in edge] == [False, True, False, True]
    failing = bench.check_targets(_summary(bench, 10, 20, errors=1), None, 10)
    crowd = bench.PROFILES["crowd"]
    assert (crowd.users, crowd.p99_ms) == (200, 500)
    judged = bench.check_targets(_summary(bench, 300, 499.0), None, 200, crowd.p99_ms, 200)
    assert [v.met for v in judged] == [True, True] and judged[0].label == "p99 latency, 200 users"
    assert [v.met for v in failing] == [True, False]
    assert "target set for 50" in failing[0].label
    lines = bench.verdict_lines(edge).splitlines()
    assert lines[0] == "- p99 latency, 50 users: 100.0 ms (target < 100 ms) MISSED"
    assert lines[1] == "- errors, 50 users: 0 (target = 0) MET"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000",
        "http://10.0.0.5:8000/api",
        "https://127.0.0.1:8000",
        "http://127.0.0.1.example.org:80",
        "http://[::1]:8000",
    ],
)
def test_only_plain_http_on_127_0_0_1_is_a_target(bench: ModuleType, url: str) -> None:
    assert bench.loopback_url("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    with pytest.raises(AssertionError, match="refusing"):
        bench.loopback_url(url)


def test_the_mix_is_80_percent_reads(bench: ModuleType) -> None:
    assert sum(bench.MIX.values()) == 100
    assert sum(bench.MIX[name] for name in bench.WRITES) == 20
    assert set(bench.MIX) == set(bench.PATHS)
    assert {"meetings GET", "record GET", "text GET", "readouts GET", "note PUT"} <= set(bench.MIX)
    rng = random.Random(1)
    picks = [bench.pick(rng) for _ in range(5000)]
    writes = sum(picks.count(name) for name in bench.WRITES)
    assert 0.17 < writes / len(picks) < 0.23


def test_every_request_of_the_mix_succeeds_on_the_seeded_world(
    bench: ModuleType, tmp_path: Path
) -> None:
    """One request of each type, as a load user sends it, to the app on the seeded world."""
    world, url, key = bench.seed(tmp_path, members=2, sessions=2)
    platform = Platform.open(Settings(database_url=url, key_file=key))
    plan = {"dialogue_id": world.dialogue_id, "issues": world.issues, "ids": world.ids}
    answered = {}
    try:
        app = create_app(platform.settings, platform)
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            for k, name in enumerate(bench.MIX):
                session = world.sessions[k % len(world.sessions)]
                headers = {"Cookie": f"{bench.COOKIE}={session['token']}"}
                method, path, body = bench.request_of(name, plan, random.Random(k), k)
                if body is not None:
                    headers["X-CSRF-Token"] = session["csrf"]
                response = client.request(method, "/api/v1" + path, json=body, headers=headers)
                answered[name] = (response.status_code, response.text[:200])
    finally:
        platform.close()
    failed = {name: got for name, got in answered.items() if got[0] >= 400}
    assert not failed, failed
    assert set(answered) == set(bench.MIX)


def test_generated_positions_fit_the_seeded_agenda(bench: ModuleType) -> None:
    agenda = Agenda(
        issues=[
            AgendaIssue(id=f"i{k}", name=name, kind=IssueKind(kind), options=list(options))
            for k, (name, kind, options) in enumerate(bench.AGENDA)
        ]
    )
    issues = [{"id": i.id, "options": list(i.options)} for i in agenda.issues]
    rng = random.Random(7)
    for n in range(20):
        position = Position.model_validate(bench.position_body(issues, rng, f"load {n}"))
        check_position(agenda, position)
        assert sorted(position.importance.values()) == [1, 2, 3]


def test_the_profiles_judge_the_target_under_the_saturation_mix_only(bench: ModuleType) -> None:
    human, saturation = bench.PROFILES["human"], bench.PROFILES["saturation"]
    assert bench.DEFAULT_PROFILE == "saturation"
    assert human.think == (1.0, 3.0) and not human.judges
    assert saturation.think == (0.05, 0.2) and saturation.judges
    # ~25/s at human pace, ~400/s at saturation, more than one process serves
    assert 50 / (sum(human.think) / 2) == 25
    assert 50 / (sum(saturation.think) / 2) == 400


def _samples(bench: ModuleType, slow_ms: float, failed: bool) -> list[object]:
    Sample = bench.Sample
    out = [Sample("rounds GET", 10.0, 200, True) for _ in range(99)]
    out.append(Sample("position PUT", slow_ms, 500 if failed else 200, not failed))
    return out


def test_the_report_states_capacity_and_the_target_under_saturation(
    bench: ModuleType,
) -> None:
    signins = [bench.Sample(bench.SIGNIN, 500.0, 200, True) for _ in range(10)]
    load = _samples(bench, 900.0, failed=False)
    text, verdicts, failed = bench.report(load, 10.0, signins, 50, bench.PROFILES["saturation"])
    assert not failed
    assert [v.label for v in verdicts][:2] == ["p99 latency, 50 users", "errors, 50 users"]
    assert "p99 latency, 50 users: 10.0 ms (target < 100 ms) MET" in text
    assert "capacity at saturation: 10.0 requests/s served" in text
    assert "think time 0.05-0.2 s" in text
    text, verdicts, failed = bench.report(load, 10.0, signins, 50, bench.PROFILES["human"])
    assert not failed
    assert not any(v.label.startswith("p99") for v in verdicts)
    assert "think time 1-3 s" in text and "capacity at saturation" not in text


def test_an_error_fails_the_run_under_either_profile(bench: ModuleType) -> None:
    load = _samples(bench, 20.0, failed=True)
    for profile in bench.PROFILES.values():
        text, verdicts, failed = bench.report(load, 10.0, [], 50, profile)
        assert failed
        assert [v.met for v in verdicts if v.label.startswith("errors")] == [False]
        assert "- position PUT: status 500 x 1" in text


def test_each_person_signs_in_from_their_own_loopback_address(bench: ModuleType) -> None:
    import ipaddress

    addresses = [bench.person_address(k) for k in range(bench.TARGET_SIGNINS)]
    assert len(set(addresses)) == len(addresses)
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses)
