"""``backchannel serve --workers N``: several processes on one database stay one server.

Each test starts the real command with two workers, on SQLite and on PostgreSQL, and
talks to it over fresh connections (the kernel hands each connection to either worker):
a session made on one worker works on the other, a sign-out ends it on both, the
sign-in throttle counts failures across workers, and a write is read back at once
wherever the read lands.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backchannel.cli import main
from backchannel.services.platform import Platform
from backchannel.web.app import worker_settings
from benchmarks.load_bench import children, free_port
from conftest import (
    INSECURE_FAST_HASHING,
    PASSWORD,
    Server,
    World,
    build_world,
    make_settings,
)

WORKERS = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, World]]:
    """A world, and the origin of ``serve --workers 2`` on its database."""
    url = f"sqlite:///{tmp_path / 'backchannel.db'}"
    if request.param == "postgresql":
        server: Server = request.getfixturevalue("postgres")
        url = server.url(server.new_database())
    settings = make_settings(tmp_path, database_url=url, login_failures_allowed=3)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    platform.close()
    port = free_port()
    env = {
        **os.environ,
        "BACKCHANNEL_PASSWORD_HASH_MEMORY_KIB": str(INSECURE_FAST_HASHING),
        "BACKCHANNEL_LOGIN_FAILURES_ALLOWED": "3",
    }
    command = [str(Path(sys.executable).parent / "backchannel"), "serve", "--port", str(port)]
    command += ["--database", url, "--key-file", str(settings.key_file)]
    command += ["--workers", str(WORKERS)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{origin}/signin", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        deadline = time.monotonic() + 30
        while len(children(process.pid)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        yield origin, world
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _fresh(origin: str) -> httpx.Client:
    """A client that opens a new connection for every request."""
    return httpx.Client(
        base_url=origin, limits=httpx.Limits(max_keepalive_connections=0), timeout=30
    )


def test_two_workers_are_one_server(served: tuple[str, World]) -> None:
    origin, world = served
    port = origin.rsplit(":", 1)[1]
    serving = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and f"--port {port} " in _cmdline(p) and "serve" in _cmdline(p)
    ]
    assert max(len(children(pid)) for pid in serving) >= WORKERS, "fewer worker processes"
    with _fresh(origin) as client:
        signed = client.post("/api/v1/session", json={"username": "a1", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        headers = {"X-CSRF-Token": signed.json()["csrf"]}
        d = world.dialogue_id
        for _ in range(20):  # the session, made on one worker, is known to both
            assert client.get(f"/api/v1/dialogues/{d}").status_code == 200
        i1 = world.issues[0]
        for note in ("first", "second", "third"):
            body = {"ratings": {i1: {"full": 100}}, "note": note}
            saved = client.put(f"/api/v1/dialogues/{d}/position", json=body, headers=headers)
            assert saved.status_code == 200, saved.text
            for _ in range(4):  # read back at once, whichever worker answers
                found = client.get(f"/api/v1/dialogues/{d}/position").json()
                assert found[-1]["position"]["note"] == note
                assert found[-1]["revision"] == saved.json()["revision"]
        assert client.post("/api/v1/session/end", headers=headers).status_code == 200
        for _ in range(10):  # ended on every worker
            assert client.get(f"/api/v1/dialogues/{d}").status_code == 401


def test_data_keys_are_not_rotated_under_a_running_server(
    served: tuple[str, World], tmp_path: Path
) -> None:
    origin, world = served
    settings = world.platform.settings
    command = ["keys", "rotate", "--data-keys", "--database", settings.database_url]
    command += ["--key-file", str(settings.key_file)]
    assert main(command) == 2  # refused: the workers hold the serving lock
    assert httpx.get(f"{origin}/signin", timeout=10).status_code == 200


def test_the_throttle_counts_across_workers(served: tuple[str, World]) -> None:
    origin, _ = served
    wrong = {"username": "b1", "password": "not the password at all"}
    with _fresh(origin) as client:
        statuses = [client.post("/api/v1/session", json=wrong).status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]


def test_each_worker_gets_its_share_of_the_sign_in_gate(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, signin_concurrency=4)
    two, eight = json.loads(worker_settings(settings, 2)), json.loads(worker_settings(settings, 8))
    assert (two["signin_concurrency"], two["signin_queue"]) == (2, 8)  # places shared, not
    assert (eight["signin_concurrency"], eight["signin_queue"]) == (1, 8)  # the queue
    chosen = make_settings(tmp_path, signin_concurrency=4, signin_queue=3)
    assert json.loads(worker_settings(chosen, 2))["signin_queue"] == 3
    passphrase = make_settings(tmp_path, key_passphrase="a long passphrase for the key")
    assert "key_passphrase" not in json.loads(worker_settings(passphrase, 2))


def _cmdline(process: Path) -> str:
    try:
        return (process / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
