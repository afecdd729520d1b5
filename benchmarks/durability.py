"""Kill -9 and power-cut trials of the platform, through its HTTP server.

One *trial series* seeds a database, serves it with ``backchannel serve`` on a free
loopback port, and then ``cuts`` times: runs a write burst (three writers over HTTP:
two members saving positions, the facilitator drafting negotiating texts), stops the server
abruptly at a random moment of the burst, and restarts it. After every restart it checks:

* **0 acknowledged writes lost**: every write that got a 2xx answer is there, decrypted:
  each negotiating text by its id, through the services, and each side's position, over
  HTTP, at its last acknowledged revision with that save's note (or at a later revision
  whose note was sent: a write in flight at the cut may land);
* **the database opens**: the server starts and, on SQLite, ``PRAGMA integrity_check``
  says ``ok``;
* **the audit verifies**: the chain checks (``backchannel audit verify``'s function, and
  the command itself after the last cut with ``cli_audit``) and every acknowledged text
  and save has its audit entry.

How the server stops is the :class:`Cut`:

* :class:`KillCut`: SIGKILL the server. The page cache survives, so this tests the
  application (acknowledge only after commit). On PostgreSQL the database server is
  SIGKILLed too, every process of it, and restarted (crash recovery).
* :class:`PowerCut` (SQLite): the server runs under the LD_PRELOAD shim of
  :mod:`benchmarks.powercut`; a cut SIGKILLs it and replaces the database folder by what
  a disk that honours fsync would hold (``mix``: unsynced blocks survive at random).
  ``synchronous="OFF"`` (or ``"NORMAL"``) is the negative control: the server runs with
  that setting forced (it refuses it normally; the trial's launcher bypasses the check,
  the product is unchanged), and must lose writes.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks import powercut
from benchmarks.pgcluster import Cluster

LOOPBACK = "127.0.0.1"
PASSWORD = "durability trials only, never a real password"
COOKIE = "bc_session"
WRITERS = ("a1", "b1", "facilitator")

UNSAFE_LAUNCHER = """
import sys
import backchannel.services.platform as platform
import backchannel.storage.db as db
weaker = "PRAGMA synchronous=" + sys.argv.pop(1)
db.SQLITE_PRAGMAS = tuple(
    weaker if p.startswith("PRAGMA synchronous") else p for p in db.SQLITE_PRAGMAS
)
platform.check_durability = lambda engine: {}
from backchannel.cli import entry_point
sys.argv = ["backchannel", *sys.argv[1:]]
entry_point()
"""


# ------------------------------------------------------------------ the database
def close(platform: Any) -> None:
    """Dispose of a platform's engines (the writer and, on SQLite, the readers)."""
    engines = (platform.engine, platform.readers.kw.get("bind", platform.engine))
    for engine in {id(e): e for e in engines}.values():
        engine.dispose()


@dataclass
class World:
    """What the writers need: the database, the two dialogues, the sessions."""

    url: str
    key: Path
    drafting: str  # a dialogue whose round is a draft: positions are saved there
    releasing: str  # a dialogue whose round was evaluated: texts are drafted there
    draft_sides: dict[str, str]  # member -> delegation id in ``drafting``
    sessions: dict[str, tuple[str, str]]  # writer name -> (cookie token, CSRF token)
    users: dict[str, str]  # writer name -> user id
    positions: dict[str, dict[str, Any]]  # writer name -> position body (JSON)


def seed(url: str, key: Path) -> World:
    """Create the accounts, the two dialogues and a session per writer, through the services."""
    from backchannel.config import Settings
    from backchannel.model.dialogue import Position, Unacceptable
    from backchannel.services import accounts, dialogues, evaluations, positions, rounds
    from backchannel.services.access import Actor
    from backchannel.services.platform import Platform
    from backchannel.storage.vault import init_key_file

    if not key.exists():
        init_key_file(key)
    settings = Settings(database_url=url, key_file=key, password_hash_memory_kib=64)
    platform = Platform.open(settings, upgrade=True)
    actors = {}
    for name in WRITERS:
        row, _ = accounts.create_user(platform, name, name.capitalize(), PASSWORD)
        actors[name] = Actor(row.id, row.username, row.display_name)
    f = actors["facilitator"]
    made: dict[str, tuple[str, dict[str, str], dict[str, Position]]] = {}
    for title in ("Drafting", "Releasing"):
        dialogue = dialogues.create_dialogue(platform, f, title)
        i1 = dialogues.add_issue(platform, f, dialogue, "Ceasefire", "ordered", ["none", "full"])
        i2 = dialogues.add_issue(platform, f, dialogue, "Sanctions", "ordered", ["keep", "lift"])
        sides = {
            "a1": dialogues.add_delegation(platform, f, dialogue, "Side A"),
            "b1": dialogues.add_delegation(platform, f, dialogue, "Side B"),
        }
        for name, side in sides.items():
            dialogues.add_member(
                platform, f, dialogue, name, "member", delegation_id=side, track="expert"
            )
        rounds.open_round(platform, f, dialogue)
        bodies = {
            "a1": Position(
                importance={i1: 1, i2: 2},
                ratings={i1: {"full": 100}, i2: {"keep": 100}},
                unacceptable=[Unacceptable(issue=i2, option="lift")],
            ),
            "b1": Position(
                importance={i1: 2, i2: 1},
                ratings={i1: {"none": 100}, i2: {"lift": 100}},
                unacceptable=[Unacceptable(issue=i1, option="full")],
            ),
        }
        made[title] = (dialogue, sides, bodies)
    releasing, _, bodies = made["Releasing"]
    for name in ("a1", "b1"):
        positions.save_position(platform, actors[name], releasing, bodies[name])
    rounds.lock_round(platform, f, releasing)
    evaluations.evaluate(platform, f, releasing)
    sessions = {}
    for name in WRITERS:
        opened = accounts.sign_in(platform, name, PASSWORD, LOOPBACK)
        sessions[name] = (opened.token, opened.csrf)
    drafting, draft_sides, draft_bodies = made["Drafting"]
    close(platform)
    return World(
        url,
        key,
        drafting,
        releasing,
        draft_sides,
        sessions,
        {n: a.user_id for n, a in actors.items()},
        {n: b.model_dump(mode="json") for n, b in draft_bodies.items()},
    )


# ------------------------------------------------------------------ acknowledged writes
@dataclass
class Ledger:
    """Every write sent and every write acknowledged (a 2xx answer), per writer."""

    saves: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # member -> acks
    sent: dict[str, set[str]] = field(default_factory=dict)  # member -> notes sent
    texts: set[str] = field(default_factory=set)  # ids of the texts drafted
    refused: list[str] = field(default_factory=list)  # non-2xx answers (should be none)
    counter: int = 0

    @property
    def acknowledged(self) -> int:
        """Acknowledged writes so far (read while the writers add to it: copied first)."""
        return sum(len(v) for v in list(self.saves.values())) + len(self.texts)


def _client(base: str, world: World, name: str) -> httpx.Client:
    token, csrf = world.sessions[name]
    headers = {"Cookie": f"{COOKIE}={token}", "X-CSRF-Token": csrf}
    return httpx.Client(base_url=base, headers=headers, timeout=30.0, trust_env=False)


def _writer(base: str, world: World, ledger: Ledger, name: str, stop: threading.Event) -> None:
    """Write until ``stop`` or until the server is gone; record each acknowledgement."""
    with _client(base, world, name) as client:
        while not stop.is_set():
            ledger.counter += 1
            note = f"{name} write {ledger.counter} {time.time_ns()}"
            try:
                if name == "facilitator":  # a new text each time (a finding goes once)
                    body = {"title": f"Text {ledger.counter}", "clauses": [{"body": note}]}
                    response = client.post(f"/api/v1/dialogues/{world.releasing}/texts", json=body)
                else:
                    body = {**world.positions[name], "note": note}
                    ledger.sent.setdefault(name, set()).add(note)
                    response = client.put(f"/api/v1/dialogues/{world.drafting}/position", json=body)
            except httpx.TransportError:
                return  # the server is gone: this write is not acknowledged
            if not response.is_success:
                ledger.refused.append(f"{name}: {response.status_code} {response.text[:200]}")
                continue
            if name == "facilitator":
                ledger.texts.add(response.json()["id"])
            else:
                ledger.saves.setdefault(name, []).append((response.json()["revision"], note))


def burst(
    base: str, world: World, ledger: Ledger, seconds: float, stop_server: Callable[[], None]
) -> None:
    """Run the writers; once the first write of the burst is acknowledged, wait ``seconds``
    and call ``stop_server`` while they write; then join them."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(base, world, ledger, name, stop), daemon=True)
        for name in WRITERS
    ]
    before = ledger.acknowledged
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while ledger.acknowledged == before and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(seconds)
    stop_server()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)


# ------------------------------------------------------------------ checks
@dataclass
class Check:
    """What one restart found."""

    acknowledged: int
    lost: int
    opens: bool
    audit: bool
    problems: list[str]


def _lost_saves(
    client: httpx.Client, world: World, ledger: Ledger, name: str
) -> tuple[int, list[str]]:
    acks = ledger.saves.get(name, [])
    if not acks:
        return 0, []
    response = client.get(f"/api/v1/dialogues/{world.drafting}/position")
    if not response.is_success:
        return 0, [f"{name}: reading the position back: {response.status_code} {response.text}"]
    found = response.json()
    current: dict[str, Any] = found[-1] if found else {"revision": 0, "position": {"note": ""}}
    revision, note = int(current["revision"]), str(current["position"].get("note", ""))
    lost = [(r, n) for r, n in acks if r > revision]
    problems = [f"{name}: acknowledged revision {r} lost (stored {revision})" for r, _ in lost]
    if not lost:
        matching = [n for r, n in acks if r == revision]
        if matching and matching[-1] != note:
            problems.append(f"{name}: revision {revision} holds {note!r}, not {matching[-1]!r}")
        elif not matching and revision > max(r for r, _ in acks) and note not in ledger.sent[name]:
            problems.append(f"{name}: revision {revision} holds a note never sent: {note!r}")
    ledger.saves[name] = [a for a in acks if a not in lost]  # each loss is counted once
    return len(lost), problems


def _lost_texts(world: World, ledger: Ledger) -> tuple[int, list[str]]:
    """Each acknowledged negotiating text, read back by id and decrypted through the
    services."""
    from backchannel.config import Settings
    from backchannel.services import text_views
    from backchannel.services.access import Actor
    from backchannel.services.platform import Platform

    platform = Platform.open(Settings(database_url=world.url, key_file=world.key))
    try:
        facilitator = Actor(world.users["facilitator"], "facilitator", "Facilitator")
        seen = {t.id for t in text_views.texts(platform, facilitator, world.releasing)}
    finally:
        close(platform)
    missing = sorted(ledger.texts - seen)
    ledger.texts -= set(missing)
    return len(missing), [f"text {t} acknowledged, lost" for t in missing]


def _audit(world: World, ledger: Ledger, cli: bool) -> list[str]:
    """The chain verifies, and each acknowledged write has its entry."""
    from sqlalchemy import create_engine, text

    from backchannel.config import Settings
    from backchannel.services import checkpoints

    settings = Settings(database_url=world.url, key_file=world.key)
    report = checkpoints.verify_database(settings, [], [])
    problems = [f"audit: {p}" for p in report.problems]
    if cli:
        command = [*backchannel_command(), "audit", "verify", "--database", world.url]
        done = subprocess.run(
            [*command, "--key-file", str(world.key)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=clean_environment(),
        )
        if done.returncode != 0:
            problems.append(f"backchannel audit verify: exit {done.returncode}: {done.stdout}")
    engine = create_engine(world.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT action, target, audience FROM audit_log WHERE dialogue_id IN (:a, :b)"
                ),
                {"a": world.drafting, "b": world.releasing},
            ).all()
    finally:
        engine.dispose()
    drafted = {r.target for r in rows if r.action == "text.created"}
    problems += [f"text {t} has no audit entry" for t in ledger.texts if t not in drafted]
    for name, acks in ledger.saves.items():
        entries = sum(
            1
            for r in rows
            if r.action == "position.saved" and r.audience == world.draft_sides[name]
        )
        if entries < len(acks):
            problems.append(f"{name}: {len(acks)} acknowledged saves, {entries} audit entries")
    return problems


def integrity(url: str) -> str:
    """``PRAGMA integrity_check`` of an SQLite database, read-only beside the server."""
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def check(base: str, world: World, ledger: Ledger, cli_audit: bool = False) -> Check:
    """After a restart: lost writes, whether the database opens, whether the audit verifies."""
    problems: list[str] = []
    lost = 0
    opens = True
    if world.url.startswith("sqlite"):
        verdict = integrity(world.url)
        if verdict != "ok":
            opens = False
            problems.append(f"integrity_check: {verdict}")
    acknowledged = ledger.acknowledged
    for name in ("a1", "b1"):
        with _client(base, world, name) as client:
            n, found = _lost_saves(client, world, ledger, name)
        lost, problems = lost + n, problems + found
    n, found = _lost_texts(world, ledger)
    lost, problems = lost + n, problems + found
    audit = _audit(world, ledger, cli_audit)
    return Check(acknowledged, lost, opens, not audit, problems + audit)


# ------------------------------------------------------------------ the server
def clean_environment(**more: str) -> dict[str, str]:
    """This process's environment without ``BACKCHANNEL_*`` settings, plus ``more``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    return {**env, **more}


def backchannel_command(synchronous: str | None = None) -> list[str]:
    """The CLI with this interpreter (with ``synchronous``: that setting forced on SQLite)."""
    if synchronous is not None:
        return [sys.executable, "-c", UNSAFE_LAUNCHER, synchronous]
    return [sys.executable, "-c", "from backchannel.cli import entry_point; entry_point()"]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def start_server(
    world: World, log: Path, env: dict[str, str], synchronous: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``backchannel serve`` on a free loopback port; returns the process once it answers."""
    port = free_port()
    command = [*backchannel_command(synchronous), "serve", "--host", LOOPBACK, "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--database", world.url, "--key-file", str(world.key)],
            cwd=log.parent,
            env=clean_environment(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with status {process.returncode}:\n{tail}")
        try:
            if httpx.get(base + "/api/v1/dialogues", timeout=2, trust_env=False).status_code in (
                200,
                401,
            ):
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not answer within 60 s")


# ------------------------------------------------------------------ cuts
class Cut:
    """How the server is stopped, and what the restart finds."""

    name = "cut"

    def environment(self) -> dict[str, str]:
        """Extra environment for the server (before each start)."""
        return {}

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        raise NotImplementedError


class KillCut(Cut):
    """SIGKILL the server (and, with ``cluster``, every PostgreSQL process, then restart it)."""

    name = "kill -9"

    def __init__(self, cluster: Cluster | None = None) -> None:
        self.cluster = cluster

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        os.kill(process.pid, signal.SIGKILL)
        if self.cluster is not None:
            self.cluster.crash()
        process.wait(timeout=30)
        if self.cluster is not None:
            self.cluster.start()  # crash recovery


class PowerCut(Cut):
    """SIGKILL the server running under the shim; keep only what was fsynced."""

    name = "power cut"

    def __init__(
        self, library: Path, folder: Path, shadow: Path, mix: random.Random | None = None
    ) -> None:
        self.library, self.folder, self.shadow_folder, self.mix = library, folder, shadow, mix
        self.shadow: powercut.Shadow | None = None
        self.violations: list[str] = []

    def environment(self) -> dict[str, str]:
        self.shadow = powercut.start_shadow(self.folder, self.shadow_folder)
        return powercut.shim_environment(self.library, self.shadow)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        assert self.shadow is not None
        powercut.cut(process, self.shadow, self.mix)
        self.violations += self.shadow.violations()


# ------------------------------------------------------------------ a series
@dataclass
class Series:
    """The figures of one series of cuts."""

    label: str
    cuts: int = 0
    acknowledged: int = 0
    lost: int = 0
    opened: int = 0
    audited: int = 0
    refused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.label}: {self.cuts} cuts, {self.acknowledged} acknowledged writes, "
            f"{self.lost} lost; database opened after {self.opened}/{self.cuts}, audit "
            f"verified after {self.audited}/{self.cuts}; {len(self.refused)} refused; "
            f"{self.seconds:.0f} s"
        )


def run_series(
    label: str,
    world: World,
    cut: Cut,
    cuts: int,
    rng: random.Random,
    window: tuple[float, float] = (0.2, 0.8),
    synchronous: str | None = None,
    cli_audit: bool = False,
    stop_on_loss: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Series:
    """Burst, cut, restart and check ``cuts`` times (see the module)."""
    series = Series(label)
    ledger = Ledger()
    log = world.key.parent.parent / "server.log"
    started = time.perf_counter()
    process, base = start_server(world, log, cut.environment(), synchronous)
    try:
        for k in range(1, cuts + 1):
            before = ledger.acknowledged
            burst(base, world, ledger, rng.uniform(*window), partial(cut.stop, process))
            acknowledged = ledger.acknowledged - before
            process, base = start_server(world, log, cut.environment(), synchronous)
            found = check(base, world, ledger, cli_audit and k == cuts)
            series.cuts += 1
            series.acknowledged += acknowledged
            series.lost += found.lost
            series.opened += found.opens
            series.audited += found.audit
            series.problems += [f"cut {k}: {p}" for p in found.problems]
            if progress is not None:
                progress(
                    f"{label} {k}/{cuts}: {acknowledged} acknowledged, {found.lost} lost, "
                    f"opens {found.opens}, audit {found.audit}"
                )
            if stop_on_loss and found.lost:
                break
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    series.refused = ledger.refused
    if isinstance(cut, PowerCut):
        series.problems += [f"shim: {v}" for v in cut.violations]
    series.seconds = time.perf_counter() - started
    return series
