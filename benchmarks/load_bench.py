"""A bounded loopback load test of the platform (``backchannel serve``) with Locust.

::

    .venv/bin/python benchmarks/load_bench.py [--profile saturation|human|crowd|all] [--quick]
                                              [--engine auto|locust|httpx]
                                              [--workers N] [--database sqlite|postgresql]

``--workers N`` serves with ``backchannel serve --workers N``; ``--database postgresql``
seeds and serves a throw-away PostgreSQL server (``benchmarks/pgcluster.py``) instead of an
SQLite file. Three load profiles, the same request mix:

* ``saturation`` (the default, where the p99 target is judged): each user waits only
  50-200 ms between requests, the mix the target was set for (research/security.md,
  G23): fifty users offer up to about 370 requests/s when answers are quick, so the
  run also shows whether one process keeps up with that (requests/s served).
* ``human``: each user waits 1-3 s between requests, as a person reading a page and
  typing does; about 25 requests/s in all. Reported beside the target: the latency
  people at the table see.
* ``crowd``: 200 users, each waiting 0.5-1.5 s: about 200 requests/s offered, a large
  plenary working at once; judged against p99 < 500 ms with 0 errors (issue 12, on
  PostgreSQL). At the saturation pace 200 users would offer some 1,600 requests/s, far
  beyond what a 2-core machine serves, and a closed loop would only measure the queue.

``all`` runs both, each on a freshly seeded database and a fresh server.

What one profile's run does, all of it on ``127.0.0.1`` (every target URL is checked)
and inside a temporary directory that is removed afterwards (``--keep`` keeps it):

1. Makes sure Locust is installed in the separate benchmark environment
   ``.venv-bench`` (the one ``run_all.py`` keeps NegMAS in): created with
   ``python3.11 -m venv .venv-bench`` when missing, then ``pip install locust==2.47.0``
   when Locust is missing or another version; nothing happens when it is there. Locust
   is never installed into ``.venv`` nor listed in ``pyproject.toml``. When it cannot
   be installed, ``--engine auto`` falls back to a small asyncio + httpx generator in
   this file (same mix, same think time).
2. Writes a key file and an SQLite database and seeds, through the services, one
   dialogue with a facilitator and ``--members`` (50) member accounts split over two
   delegations. The accounts are hashed with the **production Argon2id settings**
   (64 MiB, t=2, p=1: the ``Settings`` default, nothing lowered as the tests do), so
   the sign-in figures are those of a real server. Round 1 is filled, locked,
   evaluated and a finding released to each side; round 2 is open as a draft; the
   dialogue's record holds a plenary held last month with an agreed shared record, a
   three-clause text both sides answered and a readout issued to each side
   (:func:`seed_record`), so every read returns real data and every write is accepted.
   The load users' sessions are opened through the services before the server starts.
3. Starts one ``backchannel serve`` process on a free loopback port (environment
   variables ``BACKCHANNEL_*`` of the caller are not passed on) and waits until it
   answers.
4. (a) ``--users`` (50) concurrent users for ``--duration`` s (human 120, saturation
   60) after a short warm-up that is not counted: 80 % reads (the dialogue view,
   rounds, releases, log and own position; the meetings, a meeting's shared record, the
   text and the readouts: :data:`MIX`), 20 % writes (PUT of the position and of the
   side's private note of the meeting), with the profile's think time between requests.
   (b) ``--signins`` (10) concurrent sign-ins over HTTP, repeated ``--waves`` (5)
   times, after three sign-ins one at a time (the cost of one Argon2id verify); each
   person signs in from their own loopback address (127.0.1.k), as the server admits
   only two password checks per address at once.
5. Prints p50/p95/p99 per request type and overall, requests/s and errors, the CPU
   the server and the load generator used, the load average, and the comparison with
   the targets (p99 < 100 ms with 0 errors at 50 users, judged under ``saturation``;
   p99 < 500 ms with 0 errors at 200 users under ``crowd``; sign-in p95 < 1 s at 10
   concurrent sign-ins), then stops the server.

Exit status 1 when any request failed (an HTTP status >= 400 or a transport error)
under any profile, 2 when the run could not be set up; missed latency targets are
reported, not fatal. Percentiles are nearest-rank over every recorded request.
Latencies are measured by the client, so on a small machine they include the load
generator's own CPU time.

``--quick`` is a smoke run (10 users, 10 s, 10 members, 2 sign-in waves) for
``run_all.py --quick``. The whole run is bounded: the load phase by its duration,
every subprocess and request by a timeout, and the script by an overall alarm.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
LOCUST_VERSION = "2.47.0"
LOCUST_REQUIREMENT = f"locust=={LOCUST_VERSION}"

LOOPBACK = "127.0.0.1"
PASSWORD = "load bench only, never a real password"  # throw-away accounts only
COOKIE = "bc_session"

# The request mix: 80 % reads, 20 % writes; the dialogue's record (meetings, a shared record,
# a negotiating text, readouts, a delegation's private note) is part of it.
MIX = {
    "dialogue GET": 10,
    "rounds GET": 8,
    "releases GET": 8,
    "log GET": 8,
    "position GET": 10,
    "meetings GET": 9,
    "record GET": 9,
    "text GET": 9,
    "readouts GET": 9,
    "position PUT": 12,
    "note PUT": 8,
}
PATHS = {
    "dialogue GET": "",
    "rounds GET": "/rounds",
    "releases GET": "/releases",
    "log GET": "/log",
    "position GET": "/position",
    "meetings GET": "/meetings",
    "record GET": "/meetings/{meeting_id}/record",
    "text GET": "/texts/{text_id}",
    "readouts GET": "/readouts",
    "position PUT": "/position",
    "note PUT": "/meetings/{meeting_id}/note",
}
"""Each request type's path under ``/api/v1/dialogues/{id}`` (the seeded ids filled in)."""
WRITES = ("position PUT", "note PUT")


if not __package__:  # run as a script: the repository root holds the ``benchmarks`` package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass(frozen=True)
class Profile:
    """How fast the load users act: a think time drawn uniformly between two bounds."""

    name: str
    think: tuple[float, float]
    duration: float
    judges: bool
    purpose: str
    users: int = 50
    p99_ms: float = 100.0


PROFILES = {
    "saturation": Profile(
        "saturation",
        (0.05, 0.2),
        60.0,
        True,
        "the mix the target is set for (G23): about 370 requests/s offered",
    ),
    "human": Profile(
        "human",
        (1.0, 3.0),
        120.0,
        False,
        "people reading a page and typing between requests (reported beside the target)",
    ),
    "crowd": Profile(
        "crowd",
        (0.5, 1.5),
        60.0,
        True,
        "200 people at once, each acting every 0.5-1.5 s: about 200 requests/s offered",
        users=200,
        p99_ms=500.0,
    ),
}
DEFAULT_PROFILE = "saturation"
SIGNIN = "sign-in (concurrent)"
SIGNIN_ALONE = "sign-in (alone)"
OVERALL = "overall"

TARGET_P99_MS = 100.0
"""Issue 12 (section 3): p99 < 100 ms at 50 users (G23 asked < 250 ms); the crowd profile
of 200 users is judged against its own ``p99_ms``."""
TARGET_USERS = 50
TARGET_SIGNIN_P95_MS = 1000.0
TARGET_SIGNINS = 10

AGENDA = (
    ("Ceasefire", "ordered", ("none", "partial", "full")),
    ("Sanctions", "ordered", ("keep", "ease", "lift")),
    ("Prisoners", "unordered", ("none", "wounded first", "all for all")),
)


# --------------------------------------------------------------------------- helpers


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100): the smallest value with at
    least ``q`` % of the values at or below it."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(q * len(ordered) / 100 - 1e-9)
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Sample:
    """One request: its type, latency (ms), HTTP status (0: no response) and outcome."""

    name: str
    ms: float
    status: int
    ok: bool


@dataclass(frozen=True)
class Summary:
    """Latency figures of one request type (or all of them) over a measured window."""

    name: str
    count: int
    errors: int
    p50: float
    p95: float
    p99: float
    max: float
    rate: float


def summarize(name: str, samples: Sequence[Sample], seconds: float) -> Summary:
    """The summary of ``samples`` recorded over ``seconds``."""
    ms = [s.ms for s in samples]
    if not ms:
        return Summary(name, 0, 0, math.nan, math.nan, math.nan, math.nan, 0.0)
    return Summary(
        name,
        len(ms),
        sum(not s.ok for s in samples),
        percentile(ms, 50),
        percentile(ms, 95),
        percentile(ms, 99),
        max(ms),
        len(ms) / seconds if seconds > 0 else math.nan,
    )


def summaries(
    samples: Sequence[Sample], seconds: float, order: Iterable[str] = ()
) -> list[Summary]:
    """One summary per request type (``order`` first, then any other) and ``overall``."""
    names = list(dict.fromkeys([*order, *(s.name for s in samples)]))
    rows = [summarize(n, [s for s in samples if s.name == n], seconds) for n in names]
    return [r for r in rows if r.count] + [summarize(OVERALL, samples, seconds)]


def error_kinds(samples: Iterable[Sample]) -> Counter[tuple[str, int]]:
    """How many failed requests there were per (request type, status)."""
    return Counter((s.name, s.status) for s in samples if not s.ok)


@dataclass(frozen=True)
class Verdict:
    """One target, its measured value and whether it was met."""

    label: str
    measured: float
    limit: float
    unit: str
    met: bool


def check_targets(
    load: Summary,
    signin: Summary | None,
    users: int,
    p99_ms: float = TARGET_P99_MS,
    target_users: int = TARGET_USERS,
) -> list[Verdict]:
    """Compare the overall load figures and the concurrent sign-ins with the targets.

    p99 < ``p99_ms`` and no error under the load; sign-in p95 < 1 s. ``users`` is only
    used in the labels (the target is stated for ``target_users``).
    """
    at = f"{users} users" + ("" if users == target_users else f" (target set for {target_users})")
    out = [
        Verdict(f"p99 latency, {at}", load.p99, p99_ms, "ms", load.p99 < p99_ms),
        Verdict(f"errors, {at}", load.errors, 0, "", load.errors == 0),
    ]
    if signin is not None:
        out.append(
            Verdict(
                f"sign-in p95, {TARGET_SIGNINS} concurrent",
                signin.p95,
                TARGET_SIGNIN_P95_MS,
                "ms",
                signin.p95 < TARGET_SIGNIN_P95_MS,
            )
        )
        out.append(Verdict("sign-in errors", signin.errors, 0, "", signin.errors == 0))
    return out


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def table(rows: Sequence[Summary]) -> str:
    """A Markdown table of summaries."""
    lines = [
        "| request | count | errors | p50 ms | p95 ms | p99 ms | max ms | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = f"**{r.name}**" if r.name == OVERALL else r.name
        lines.append(
            f"| {name} | {r.count} | {r.errors} | {_ms(r.p50)} | {_ms(r.p95)} | "
            f"{_ms(r.p99)} | {_ms(r.max)} | {r.rate:.1f} |"
        )
    return "\n".join(lines)


def verdict_lines(verdicts: Sequence[Verdict]) -> str:
    """The target comparison, one line each."""
    out = []
    for v in verdicts:
        value = f"{v.measured:.1f} {v.unit}" if v.unit else f"{v.measured:g}"
        limit = f"< {v.limit:g} {v.unit}" if v.unit else f"= {v.limit:g}"
        out.append(f"- {v.label}: {value} (target {limit}) {'MET' if v.met else 'MISSED'}")
    return "\n".join(out)


def loopback_url(url: str) -> str:
    """``url`` unchanged if it is plain HTTP on 127.0.0.1; AssertionError otherwise."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    assert parts.scheme == "http", f"refusing to send traffic to {url!r}: not plain HTTP"
    assert parts.hostname == LOOPBACK, f"refusing to send traffic to {url!r}: not {LOOPBACK}"
    return url


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system, all threads) of a process; NaN where /proc is missing.

    ``pid`` None: this process (``resource``), so it works for the load generator too.
    """
    if pid is None:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children(pid))


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (the workers of ``serve --workers N``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def pick(rng: random.Random) -> str:
    """One request type of the mix, by weight."""
    return rng.choices(list(MIX), weights=list(MIX.values()))[0]


def position_body(issues: Sequence[dict[str, Any]], rng: random.Random, note: str) -> dict:
    """A valid random Position (JSON) on the seeded agenda."""
    order = list(range(1, len(issues) + 1))
    rng.shuffle(order)
    body: dict[str, Any] = {
        "importance": {i["id"]: rank for i, rank in zip(issues, order, strict=True)},
        "ratings": {i["id"]: {o: rng.randint(0, 100) for o in i["options"]} for i in issues},
        "walk_away": rng.randint(0, 60),
        "note": note,
    }
    worst = rng.choice(issues)
    body["unacceptable"] = [
        {"issue": worst["id"], "option": worst["options"][-1], "firmness": "firm"}
    ]
    return body


def request_of(
    name: str, plan: dict[str, Any], rng: random.Random, n: int
) -> tuple[str, str, dict[str, Any] | None]:
    """The ``n``-th request of a user, of type ``name``: its method, path (from the
    ``/api/v1`` root) and JSON body (a write) or None (a read)."""
    path = f"/dialogues/{plan['dialogue_id']}" + PATHS[name].format(**plan["ids"])
    if name == "position PUT":
        return "PUT", path, position_body(plan["issues"], rng, f"load {n}")
    if name == "note PUT":
        return "PUT", path, {"text": f"load note {n}: one participant spoke of the corridor"}
    return "GET", path, None


# ------------------------------------------------------------------ benchmark venv


def locust_ready(python: Path = BENCH_PYTHON) -> bool:
    """Whether the benchmark environment imports the pinned Locust."""
    import subprocess

    if not python.exists():
        return False
    probe = f"import locust, sys; sys.exit(locust.__version__ != {LOCUST_VERSION!r})"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, check=False, timeout=120)
    return done.returncode == 0


def ensure_locust() -> bool:
    """Install the pinned Locust into ``.venv-bench`` when needed (idempotent)."""
    import subprocess

    if locust_ready():
        print(f"Locust: {BENCH_VENV} (Locust {LOCUST_VERSION}) is ready")
        return True
    if not BENCH_PYTHON.exists():
        base = shutil.which("python3.11") or sys.executable
        print(f"creating {BENCH_VENV} with {base} -m venv (benchmark tools only)")
        made = subprocess.run([base, "-m", "venv", str(BENCH_VENV)], check=False, timeout=300)
        if made.returncode != 0:
            print("could not create the benchmark environment")
            return False
    print(f"installing {LOCUST_REQUIREMENT} into {BENCH_VENV}")
    pip = [str(BENCH_PYTHON), "-m", "pip", "install", "--quiet", LOCUST_REQUIREMENT]
    try:
        code = subprocess.run(pip, check=False, timeout=600).returncode
    except subprocess.TimeoutExpired:
        code = 1
    if code != 0 or not locust_ready():
        print("could not install Locust")
        return False
    return True


# ------------------------------------------------------------------------ the world


@dataclass
class World:
    """What the load needs: the dialogue, its agenda, the accounts and open sessions."""

    dialogue_id: str
    issues: list[dict[str, Any]]
    members: list[str]
    sessions: list[dict[str, str]]
    ids: dict[str, str]
    """The record's ids the paths name: ``meeting_id``, ``text_id``."""


def seed(tmp: Path, members: int, sessions: int, url: str = "") -> tuple[World, str, Path]:
    """Key file, database, the dialogue, and ``sessions`` signed-in members."""
    from concurrent.futures import ThreadPoolExecutor

    from backchannel.config import Settings
    from backchannel.model.dialogue import Position, Unacceptable
    from backchannel.services import accounts, dialogues, evaluations, positions, releases, rounds
    from backchannel.services.access import Actor, Track
    from backchannel.services.platform import Platform
    from backchannel.storage.vault import init_key_file

    key = tmp / "keys" / "kek.key"
    init_key_file(key)
    url = url or f"sqlite:///{tmp / 'backchannel.db'}"
    settings = Settings(database_url=url, key_file=key)
    assert settings.password_hash_memory_kib == 65536, "production Argon2id settings expected"
    platform_ = Platform.open(settings, upgrade=True)

    def account(name: str) -> Actor:
        row, _ = accounts.create_user(platform_, name, name.capitalize(), PASSWORD)
        return Actor(row.id, row.username, row.display_name)

    start = time.perf_counter()
    facilitator = account("facilitator")
    names = [f"member{k:03d}" for k in range(1, members + 1)]
    actors = {n: account(n) for n in names}
    print(f"seeded {members + 1} accounts (Argon2id 64 MiB) in {time.perf_counter() - start:.1f} s")

    dialogue_id = dialogues.create_dialogue(platform_, facilitator, "Load test channel")
    issues = []
    for title, kind, options in AGENDA:
        issue_id = dialogues.add_issue(
            platform_, facilitator, dialogue_id, title, kind, list(options)
        )
        issues.append({"id": issue_id, "options": list(options)})
    sides = [
        dialogues.add_delegation(platform_, facilitator, dialogue_id, "Side A"),
        dialogues.add_delegation(platform_, facilitator, dialogue_id, "Side B"),
    ]
    tracks = [t.value for t in Track]
    for k, name in enumerate(names):
        dialogues.add_member(
            platform_,
            facilitator,
            dialogue_id,
            name,
            "member",
            delegation_id=sides[k % 2],
            track=tracks[k % len(tracks)],
        )
    rounds.open_round(platform_, facilitator, dialogue_id)
    i1, i2, i3 = (i["id"] for i in issues)
    position_a = Position(
        importance={i1: 1, i2: 2, i3: 3},
        ratings={i1: {"full": 100, "partial": 60}, i2: {"keep": 100, "ease": 50}},
        unacceptable=[Unacceptable(issue=i2, option="lift")],
        walk_away=20,
    )
    position_b = Position(
        importance={i2: 1, i1: 2, i3: 3},
        ratings={i2: {"lift": 100, "ease": 70}, i1: {"none": 100, "partial": 60}},
        unacceptable=[Unacceptable(issue=i1, option="full")],
    )
    positions.save_position(platform_, actors[names[0]], dialogue_id, position_a)
    positions.save_position(platform_, actors[names[1]], dialogue_id, position_b)
    rounds.lock_round(platform_, facilitator, dialogue_id)
    evaluation = evaluations.evaluate(platform_, facilitator, dialogue_id)
    for side in sides:
        releases.release(platform_, facilitator, dialogue_id, evaluation, side, "zone")
    rounds.open_round(platform_, facilitator, dialogue_id)
    ids = seed_record(platform_, facilitator, dialogue_id, [actors[n] for n in names[:2]], sides)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        opened = list(
            pool.map(
                lambda n: accounts.sign_in(platform_, n, PASSWORD, LOOPBACK),
                [names[k % members] for k in range(sessions)],
            )
        )
    print(f"opened {sessions} sessions in {time.perf_counter() - start:.1f} s")
    platform_.engine.dispose()
    world = World(
        dialogue_id,
        issues,
        names,
        [{"token": o.token, "csrf": o.csrf} for o in opened],
        ids,
    )
    return world, url, key


def seed_record(
    platform_: Any, facilitator: Any, dialogue_id: str, members: Sequence[Any], sides: list[str]
) -> dict[str, str]:
    """The dialogue's record the mix reads: a plenary held last month with its shared
    record (confirmed by both sides), a three-clause text both sides answered, and a
    readout (HTML) issued to each side. ``members``: one member of each side."""
    from datetime import timedelta

    from backchannel.model.text import Draft
    from backchannel.services import meetings, readouts, records, text_views, texts
    from backchannel.storage.tables import utcnow

    when = (utcnow() - timedelta(days=30)).strftime("%Y-%m-%dT10:00")
    plan = meetings.MeetingPlan(starts=when, zone="Europe/Vienna", place="Vienna")
    meeting_id = meetings.schedule(platform_, facilitator, dialogue_id, plan)
    records.write(platform_, facilitator, dialogue_id, meeting_id, "The sides reviewed the agenda.")
    for member in members:
        records.answer(platform_, member, dialogue_id, meeting_id, 1, "confirmed")
    clauses = ["The sides meet every quarter.", "A ceasefire holds.", "Prisoners go home."]
    text_id = texts.create_text(
        platform_, facilitator, dialogue_id, "Joint statement", [Draft(body=c) for c in clauses]
    )
    for member, answer in zip(members, ("agree", "ad_referendum"), strict=True):
        shown = text_views.text_view(platform_, member, dialogue_id, text_id)
        given = [(c.clause.id, answer, "", "") for c in shown.clauses]
        texts.respond(platform_, member, dialogue_id, text_id, shown.version, given)
    for side in sides:
        review = readouts.draft(platform_, facilitator, dialogue_id, side, "en")
        readouts.issue(platform_, facilitator, dialogue_id, side, "en", "html", "a4", review.basis)
    return {"meeting_id": meeting_id, "text_id": text_id}


# ----------------------------------------------------------------------- the server


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def server_command(port: int, url: str, key: Path, workers: int = 1) -> list[str]:
    """``backchannel serve`` on the loopback port, with this interpreter's install."""
    script = Path(sys.executable).parent / "backchannel"
    base = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from backchannel.cli import entry_point; entry_point()"]
    )
    return [
        *base,
        "serve",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--database",
        url,
        "--key-file",
        str(key),
        "--workers",
        str(workers),
    ]


def wait_until_up(port: int, process: Any, timeout: float = 60.0) -> None:
    """Poll until the server answers (401 on the API without a session)."""
    import http.client

    loopback_url(f"http://{LOOPBACK}:{port}/")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            connection = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
            connection.request("GET", "/api/v1/dialogues")
            status = connection.getresponse().status
            connection.close()
            if status in (200, 401):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


# ------------------------------------------------------------------- load: Locust


def run_locust(plan: dict[str, Any], tmp: Path) -> tuple[list[Sample], float, dict[str, float]]:
    """Run the load phase with Locust in ``.venv-bench`` (a subprocess of this file)."""
    import subprocess

    plan_file, out_file = tmp / "plan.json", tmp / "samples.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    limit = plan["warmup"] + plan["duration"] + 120
    command = [str(BENCH_PYTHON), str(Path(__file__).resolve()), "_locust", str(plan_file)]
    code = subprocess.run([*command, str(out_file)], check=False, timeout=limit).returncode
    if code != 0:
        raise RuntimeError(f"the Locust run failed with status {code}")
    data = json.loads(out_file.read_text(encoding="utf-8"))
    return [Sample(*row) for row in data["samples"]], float(data["seconds"]), data["cpu"]


def locust_main(plan_file: str, out_file: str) -> int:
    """Inside ``.venv-bench``: the Locust users, run as a library for the planned time."""
    import gevent
    from locust import FastHttpUser, between
    from locust.env import Environment

    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    base = loopback_url(plan["base"])
    prefix = "/api/v1"
    sessions = iter(plan["sessions"] * (plan["users"] // len(plan["sessions"]) + 1))
    samples: list[list[Any]] = []
    window = {"start": math.inf, "end": math.inf}

    def record(request_type: str, name: str, response_time: float, **kw: Any) -> None:
        started = kw.get("start_time", 0.0)
        if not window["start"] <= started < window["end"]:
            return
        response, failure = kw.get("response"), kw.get("exception")
        status = int(getattr(response, "status_code", 0) or 0)
        samples.append([name, float(response_time), status, failure is None and status < 400])

    def task_of(name: str) -> Any:
        def act(user: Any) -> None:
            user.n += 1
            method, path, body = request_of(name, plan, user.rng, user.n)
            headers = user.write if body is not None else user.read
            user.client.request(method, prefix + path, json=body, headers=headers, name=name)

        return act

    class Member(FastHttpUser):
        host = base
        wait_time = between(*plan["think"])
        concurrency = 1
        tasks = {task_of(name): weight for name, weight in MIX.items()}  # noqa: RUF012

        def on_start(self) -> None:
            session = next(sessions)
            self.read = {"Cookie": f"{COOKIE}={session['token']}"}
            self.write = {**self.read, "X-CSRF-Token": session["csrf"]}
            self.rng = random.Random(session["csrf"])
            self.n = 0

    env = Environment(user_classes=[Member], host=base)
    env.events.request.add_listener(record)
    runner = env.create_local_runner()
    runner.start(plan["users"], spawn_rate=plan["users"])
    gevent.sleep(plan["warmup"])
    server0, client0 = cpu_seconds(plan["server_pid"]), cpu_seconds()
    window["start"] = time.time()
    gevent.sleep(plan["duration"])
    window["end"] = time.time()
    cpu = {"server": cpu_seconds(plan["server_pid"]) - server0, "client": cpu_seconds() - client0}
    runner.quit()
    seconds = window["end"] - window["start"]
    out = {"seconds": seconds, "cpu": cpu, "samples": samples}
    Path(out_file).write_text(json.dumps(out), "utf-8")
    return 0


# -------------------------------------------------------------- load: asyncio + httpx


async def run_httpx(plan: dict[str, Any]) -> tuple[list[Sample], float, dict[str, float]]:
    """The same load with asyncio and httpx (when Locust is not available)."""
    import asyncio

    import httpx

    base = loopback_url(plan["base"])
    samples: list[Sample] = []
    window = {"start": math.inf, "end": math.inf}
    limits = httpx.Limits(max_connections=plan["users"], max_keepalive_connections=plan["users"])
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30.0, trust_env=False
    ) as client:

        async def user(k: int) -> None:
            session = plan["sessions"][k % len(plan["sessions"])]
            read = {"Cookie": f"{COOKIE}={session['token']}"}
            write = {**read, "X-CSRF-Token": session["csrf"]}
            rng, n = random.Random(session["csrf"]), 0
            while time.time() < window["end"]:
                name = pick(rng)
                n += 1
                method, path, body = request_of(name, plan, rng, n)
                started, t0 = time.time(), time.perf_counter()
                try:
                    response = await client.request(
                        method,
                        "/api/v1" + path,
                        json=body,
                        headers=write if body is not None else read,
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                ms = (time.perf_counter() - t0) * 1000
                if window["start"] <= started < window["end"]:
                    samples.append(Sample(name, ms, status, 0 < status < 400))
                await asyncio.sleep(rng.uniform(*plan["think"]))

        async def meter() -> dict[str, float]:
            await asyncio.sleep(plan["warmup"])
            server, client = cpu_seconds(plan["server_pid"]), cpu_seconds()
            await asyncio.sleep(plan["duration"])
            return {
                "server": cpu_seconds(plan["server_pid"]) - server,
                "client": cpu_seconds() - client,
            }

        window["start"] = time.time() + plan["warmup"]
        window["end"] = window["start"] + plan["duration"]
        cpu, *_ = await asyncio.gather(meter(), *(user(k) for k in range(plan["users"])))
    return samples, plan["duration"], cpu


# ------------------------------------------------------------------------ sign-ins


def person_address(k: int) -> str:
    """The loopback address the ``k``-th person signs in from (127.0.1.1, 127.0.1.2, ...).

    Every 127.x.y.z address is the loopback interface. The server admits only
    ``signin_concurrency_per_source`` (2) password checks per address at once, so ten
    people signing in at once come from ten addresses, as they would in life.
    """
    return f"{LOOPBACK.rsplit('.', 2)[0]}.1.{k % 250 + 1}"


async def run_signins(
    base: str, members: Sequence[str], concurrent: int, waves: int
) -> list[Sample]:
    """Three sign-ins one at a time, then ``waves`` bursts of ``concurrent`` at once, each
    person from their own loopback address."""
    import asyncio

    import httpx

    loopback_url(base)
    samples: list[Sample] = []

    def client(k: int) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=person_address(k))
        return httpx.AsyncClient(base_url=base, timeout=60.0, trust_env=False, transport=transport)

    people = [client(k) for k in range(concurrent)]
    try:

        async def one(k: int, name: str, label: str) -> None:
            t0 = time.perf_counter()
            try:
                response = await people[k].post(
                    "/api/v1/session", json={"username": name, "password": PASSWORD}
                )
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            ms = (time.perf_counter() - t0) * 1000
            samples.append(Sample(label, ms, status, 0 < status < 400))

        for k in range(3):
            await one(0, members[k % len(members)], SIGNIN_ALONE)
        for wave in range(waves):
            await asyncio.sleep(1.0)
            names = [members[(wave * concurrent + k) % len(members)] for k in range(concurrent)]
            await asyncio.gather(*(one(k, n, SIGNIN) for k, n in enumerate(names)))
    finally:
        for person in people:
            await person.aclose()
    return samples


# ---------------------------------------------------------------------------- main


def machine() -> str:
    """The machine in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}"


def load_average() -> str:
    """The 1/5/15-minute load averages."""
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_line(cpu: dict[str, float], seconds: float, requests: int) -> str:
    """Where the CPU went during the measured window (server and load generator)."""
    server, client = cpu["server"], cpu["client"]
    per = 1000 * server / requests if requests else math.nan
    return (
        f"CPU in the measured window: server {server:.1f} s ({100 * server / seconds:.0f} % of "
        f"one core, {per:.1f} ms per request), load generator {client:.1f} s "
        f"({100 * client / seconds:.0f} % of one core)"
    )


def report(
    load: list[Sample],
    seconds: float,
    signins: list[Sample],
    users: int,
    profile: Profile | None = None,
) -> tuple[str, list[Verdict], bool]:
    """The printed report, the verdicts, and whether any request failed.

    The latency target is judged only under a profile that ``judges`` it (the
    saturation mix of G23); the saturation run also states the capacity, and errors
    are a failure under every profile.
    """
    profile = profile or PROFILES[DEFAULT_PROFILE]
    load_rows = summaries(load, seconds, MIX)
    overall = load_rows[-1]
    concurrent = [s for s in signins if s.name == SIGNIN]
    sign_rows = [
        summarize(SIGNIN_ALONE, [s for s in signins if s.name == SIGNIN_ALONE], math.nan),
        summarize(SIGNIN, concurrent, math.nan),
    ]
    verdicts = check_targets(
        overall, sign_rows[1] if concurrent else None, users, profile.p99_ms, profile.users
    )
    if not profile.judges:
        verdicts = [v for v in verdicts if not v.label.startswith("p99 latency")]
    kinds = error_kinds([*load, *signins])
    think = f"{profile.think[0]:g}-{profile.think[1]:g} s"
    lines = [
        f"## (a) profile {profile.name!r}: {users} concurrent users, think time {think}, "
        f"{seconds:.0f} s measured",
        "",
        table(load_rows),
        "",
    ]
    if profile.name == "saturation":
        lines += [
            f"capacity at saturation: {overall.rate:.1f} requests/s served, p50 "
            f"{_ms(overall.p50)} ms, p99 {_ms(overall.p99)} ms",
            "",
        ]
    lines += [
        "## (b) sign-ins",
        "",
        table(sign_rows).replace(" nan |", " - |"),
        "",
        "## targets",
        "",
        verdict_lines(verdicts),
    ]
    if kinds:
        lines += ["", "## failed requests", ""]
        lines += [f"- {name}: status {status} x {n}" for (name, status), n in kinds.items()]
    return "\n".join(lines), verdicts, bool(kinds)


@dataclass(frozen=True)
class Options:
    """What one profile's run needs from the command line."""

    users: int
    duration: float | None
    warmup: float
    members: int
    signins: int
    waves: int
    engine: str
    keep: bool
    workers: int = 1
    database: str = "sqlite"


def run_profile(profile: Profile, options: Options) -> tuple[bool, dict[str, Any]] | None:
    """Seed a fresh database, serve it, load it with ``profile``, sign in, report.

    Returns whether any request failed and the figures (for ``--json``), or None when
    the run could not be set up.
    """
    import asyncio
    import subprocess
    from contextlib import ExitStack

    from benchmarks.pgcluster import Cluster, ClusterError

    users, duration = options.users or profile.users, options.duration or profile.duration
    print(f"\n# profile {profile.name!r}: {profile.purpose}")
    print(
        f"machine: {machine()}; {options.database}, {options.workers} worker(s); "
        f"load average before: {load_average()}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="backchannel-load-"))
    server = None
    stack = ExitStack()
    try:
        url = ""
        if options.database == "postgresql":
            cluster = Cluster()
            stack.callback(cluster.remove)
            cluster.create()
            url = cluster.create_database("load")
        world, url, key = seed(tmp, max(options.members, 2), users, url)
        port = free_port()
        base = loopback_url(f"http://{LOOPBACK}:{port}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
        server_log = (tmp / "server.log").open("w", encoding="utf-8")
        server = subprocess.Popen(
            server_command(port, url, key, options.workers),
            cwd=tmp,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(port, server)
        print(
            f"server {base} (pid {server.pid}); engine {options.engine}; {users} users, "
            f"think {profile.think[0]:g}-{profile.think[1]:g} s, {duration:g} s "
            f"(started {time.strftime('%Y-%m-%d %H:%M:%S %Z')})"
        )
        plan = {
            "base": base,
            "dialogue_id": world.dialogue_id,
            "issues": world.issues,
            "ids": world.ids,
            "sessions": world.sessions,
            "users": users,
            "duration": duration,
            "warmup": options.warmup,
            "think": list(profile.think),
            "server_pid": server.pid,
        }
        if options.engine == "locust":
            load, seconds, cpu = run_locust(plan, tmp)
        else:
            load, seconds, cpu = asyncio.run(run_httpx(plan))
        during = load_average()
        signins = asyncio.run(run_signins(base, world.members, options.signins, options.waves))
        text, verdicts, failed = report(load, seconds, signins, users, profile)
        print()
        print(text)
        print()
        print(cpu_line(cpu, seconds, len(load)))
        print(f"load average during/after the load phase: {during}; now: {load_average()}")
        server_log.flush()
        problems = [
            line
            for line in (tmp / "server.log").read_text(encoding="utf-8").splitlines()
            if "error" in line.lower() or "Traceback" in line
        ]
        if problems:
            print(f"server log: {len(problems)} error line(s), e.g.:")
            for line in problems[:10]:
                print(f"  {line}")
        figures = {
            "profile": profile.name,
            "think": list(profile.think),
            "engine": options.engine,
            "users": users,
            "workers": options.workers,
            "database": options.database,
            "seconds": seconds,
            "cpu": cpu,
            "machine": machine(),
            "load_average_during": during,
            "load": summaries(load, seconds, MIX),
            "signins": summaries(signins, math.nan),
            "verdicts": verdicts,
        }
        return failed, figures
    except (RuntimeError, OSError, subprocess.SubprocessError, ClusterError) as error:
        print(f"the load test could not run: {error}")
        log = tmp / "server.log"
        if log.exists():
            print("server log (last lines):")
            for line in log.read_text(encoding="utf-8").splitlines()[-20:]:
                print(f"  {line}")
        return None
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
        stack.close()
        if options.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Set up, load, measure, report; exit 1 when a request failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 users, 10 s")
    parser.add_argument(
        "--profile",
        choices=(*PROFILES, "all"),
        default=DEFAULT_PROFILE,
        help="think time: "
        + ", ".join(f"{p.name} {p.think[0]:g}-{p.think[1]:g} s" for p in PROFILES.values())
        + f"; all: each in turn (default {DEFAULT_PROFILE})",
    )
    parser.add_argument(
        "--users", type=int, help="concurrent users (default: the profile's, 50 or 200; quick 10)"
    )
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N (default 1)")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite", help="default sqlite"
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="measured seconds (default: human 120, saturation 60; quick 10)",
    )
    parser.add_argument("--warmup", type=float, help="uncounted seconds first (default 5; quick 2)")
    parser.add_argument("--members", type=int, help="member accounts (default 50; quick 10)")
    parser.add_argument("--signins", type=int, default=TARGET_SIGNINS, help="concurrent sign-ins")
    parser.add_argument("--waves", type=int, help="sign-in bursts (default 5; quick 2)")
    parser.add_argument("--engine", choices=("auto", "locust", "httpx"), default="auto")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    quick = args.quick
    profiles = list(PROFILES.values()) if args.profile == "all" else [PROFILES[args.profile]]
    options = Options(
        users=args.users or (10 if quick else 0),
        duration=args.duration or (10.0 if quick else None),
        warmup=args.warmup if args.warmup is not None else (2.0 if quick else 5.0),
        members=max(args.members or (10 if quick else 50), 2),
        signins=args.signins,
        waves=args.waves or (2 if quick else 5),
        engine=args.engine,
        keep=args.keep,
        workers=args.workers,
        database=args.database,
    )
    if options.users < 0 or (options.duration or 1) <= 0 or options.signins < 1:
        parser.error("users, duration and sign-ins must be positive")
    if not 1 <= options.workers <= 32:
        parser.error("--workers takes 1 to 32")

    import signal

    budget = int(sum(options.warmup + (options.duration or p.duration) + 900 for p in profiles))

    def _alarm(*_: Any) -> None:
        raise TimeoutError(f"the load test ran past its {budget} s budget")

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(budget)
    try:
        engine = args.engine
        if engine in ("auto", "locust"):
            if ensure_locust():
                engine = "locust"
            elif engine == "locust":
                return 2
            else:
                engine = "httpx"
                print("falling back to the asyncio + httpx load generator")
        options = Options(**{**options.__dict__, "engine": engine})
        results = []
        for profile in profiles:
            done = run_profile(profile, options)
            if done is None:
                return 2
            results.append(done)
    except TimeoutError as error:
        print(f"the load test could not run: {error}")
        return 2
    finally:
        signal.alarm(0)
    if args.json:
        figures = [f for _, f in results]
        args.json.write_text(
            json.dumps(
                figures[0] if len(figures) == 1 else figures,
                default=lambda o: o.__dict__,
                indent=2,
            ),
            encoding="utf-8",
        )
    return 1 if any(failed for failed, _ in results) else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_locust":
        sys.exit(locust_main(sys.argv[2], sys.argv[3]))
    sys.exit(main())
