"""Key rotation (issue 12 §2): a new KEK for every dialogue key, and new data keys.

The crash test runs the rotation in a subprocess and kills it with SIGKILL at every step
(each step is one row update, killed before its commit; the last kill comes after the
switch committed). After each kill the database opens with the key the design says (the
old one until the switch, then the new one), every dialogue opens, the audit log
verifies, and running the rotation again completes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from backchannel.cli import main
from backchannel.errors import InputError, NotAllowedNow
from backchannel.services import (
    audit_log,
    dialogues,
    evaluations,
    keys,
    positions,
    releases,
    rounds,
)
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage.vault import KeyFileError, init_key_file
from conftest import World, build_world, close, make_settings

from .conftest import position_a, position_b

PASSPHRASE = "a long passphrase for the rotation test"

CRASHING_ROTATION = """
import os, signal, sys
from pathlib import Path
from backchannel.config import Settings
from backchannel.services import keys

database, old, new, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def on_step(number):
    if number == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(database_url=database, key_file=Path(old), password_hash_memory_kib=64)
keys.rotate_kek(settings, keys.NewKey(key_file=Path(new)), on_step)
"""


@dataclass
class Template:
    """A database with a few dialogues (one with a whole round), closed, and its keys."""

    folder: Path
    facilitator: Actor
    dialogue_ids: list[str]

    def copy(self, target: Path) -> tuple[str, Path, Path]:
        shutil.copytree(self.folder, target)
        return (
            f"sqlite:///{target / 'backchannel.db'}",
            target / "keys/kek.key",
            target / "keys/new.key",
        )


def evaluated_world(platform: Platform) -> World:
    world = build_world(platform)
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world, note="note of A"))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    releases.release(p, f, d, evaluations.evaluate(p, f, d), world.delegation_a, "zone")
    return world


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("rotation") / "db"
    platform = Platform.open(make_settings(folder), upgrade=True)
    world = evaluated_world(platform)
    f = world.actors["facilitator"]
    ids = [world.dialogue_id] + [
        dialogues.create_dialogue(platform, f, f"Talks {n}") for n in range(2)
    ]
    close(platform)
    init_key_file(folder / "keys" / "new.key")
    return Template(folder, f, ids)


def opened(url: str, key: Path, **more: object) -> Platform:
    return Platform.open(make_settings(key.parent.parent, database_url=url, key_file=key, **more))


def readable(platform: Platform, template: Template) -> None:
    """Every dialogue opens, and the audit log verifies."""
    platform.key_cache.forget()
    for dialogue_id in template.dialogue_ids:
        assert dialogues.view(platform, template.facilitator, dialogue_id).title
    report = audit_log.verify(platform)
    assert report.ok, report.problems


def test_kill_9_at_every_step_loses_nothing(template: Template, tmp_path: Path) -> None:
    total = len(template.dialogue_ids) + 3  # start, one per key, switch, after the switch
    for kill_at in range(1, total + 1):
        url, old, new = template.copy(tmp_path / f"kill-{kill_at}")
        done = subprocess.run(
            [sys.executable, "-c", CRASHING_ROTATION, url, str(old), str(new), str(kill_at)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == -9, (kill_at, done.stderr[-2000:])
        switched = kill_at == total
        good, bad = (new, old) if switched else (old, new)
        platform = opened(url, good)
        readable(platform, template)
        close(platform)
        with pytest.raises(KeyFileError) as refused:
            opened(url, bad)
        if not switched and kill_at > 1:
            assert "rotation" in str(refused.value)  # the new key: says why
        settings = make_settings(tmp_path / f"kill-{kill_at}", database_url=url, key_file=old)
        finished = keys.rotate_kek(settings, keys.NewKey(key_file=new))
        assert finished.already_done == switched
        assert finished.resumed == (kill_at > 1)
        platform = opened(url, new)
        readable(platform, template)
        close(platform)
        with pytest.raises(KeyFileError):
            opened(url, old)


def test_the_whole_rotation_runs_in_known_steps(template: Template, tmp_path: Path) -> None:
    url, old, new = template.copy(tmp_path / "whole")
    steps: list[int] = []
    settings = make_settings(tmp_path / "whole", database_url=url, key_file=old)
    made = keys.rotate_kek(settings, keys.NewKey(key_file=new), steps.append)
    assert made.keys == len(template.dialogue_ids) and not made.resumed
    assert steps == list(range(1, len(template.dialogue_ids) + 4))


def test_from_a_key_file_to_a_passphrase_and_back(template: Template, tmp_path: Path) -> None:
    url, old, new = template.copy(tmp_path / "phrase")
    by_file = make_settings(tmp_path / "phrase", database_url=url, key_file=old)
    keys.rotate_kek(by_file, keys.NewKey(passphrase=PASSPHRASE))
    with pytest.raises(KeyFileError):
        Platform.open(by_file)
    by_phrase = by_file.model_copy(update={"key_passphrase": PASSPHRASE})
    platform = Platform.open(by_phrase)
    readable(platform, template)
    close(platform)
    keys.rotate_kek(by_phrase, keys.NewKey(key_file=new))
    with pytest.raises(KeyFileError):
        Platform.open(by_phrase)
    platform = opened(url, new)
    readable(platform, template)
    close(platform)


def test_the_running_server_reads_on_and_refuses_to_wrap_with_an_old_key(
    template: Template, tmp_path: Path
) -> None:
    url, old, new = template.copy(tmp_path / "live")
    server = opened(url, old)
    f = template.facilitator
    before = {d: dialogues.view(server, f, d).title for d in template.dialogue_ids}

    def interrupt(number: int) -> None:
        if number == 3:  # started, one key re-wrapped
            raise KeyboardInterrupt

    settings = make_settings(tmp_path / "live", database_url=url, key_file=old)
    with pytest.raises(KeyboardInterrupt):
        keys.rotate_kek(settings, keys.NewKey(key_file=new), interrupt)
    server.key_cache.forget()  # the server reads and writes while the rotation is under way
    assert {d: dialogues.view(server, f, d).title for d in template.dialogue_ids} == before
    dialogues.create_dialogue(server, f, "Made during the rotation")
    keys.rotate_kek(settings, keys.NewKey(key_file=new))
    assert {d: dialogues.view(server, f, d).title for d in template.dialogue_ids} == before
    with pytest.raises(KeyFileError, match="rotated since this server started"):
        dialogues.create_dialogue(server, f, "Too late")
    close(server)
    restarted = opened(url, new)
    made = [dialogue_id for dialogue_id, _, _ in dialogues.my_dialogues(restarted, f)]
    assert len(made) == len(template.dialogue_ids) + 1  # the one made during it opens too
    for dialogue_id in made:
        assert dialogues.view(restarted, f, dialogue_id).title
    close(restarted)


def test_a_rotation_to_another_key_is_refused_while_one_runs(
    template: Template, tmp_path: Path
) -> None:
    url, old, new = template.copy(tmp_path / "other")
    settings = make_settings(tmp_path / "other", database_url=url, key_file=old)

    def stop(number: int) -> None:
        if number == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys.rotate_kek(settings, keys.NewKey(key_file=new), stop)
    third = new.with_name("third.key")
    init_key_file(third)
    with pytest.raises(KeyFileError, match="another key-encryption key is under way"):
        keys.rotate_kek(settings, keys.NewKey(key_file=third))
    with pytest.raises(NotAllowedNow, match="under way"):
        keys.rotate_data_keys(opened(url, old))
    assert keys.rotate_kek(settings, keys.NewKey(key_file=new)).resumed


def test_data_keys_are_rotated_and_every_field_re_sealed(
    template: Template, tmp_path: Path
) -> None:
    url, old, _ = template.copy(tmp_path / "dek")
    platform = opened(url, old)
    f, d = template.facilitator, template.dialogue_ids[0]
    before = (dialogues.view(platform, f, d), evaluations.evaluations(platform, f, d))
    with platform.engine.connect() as connection:
        sealed_before = connection.exec_driver_sql("SELECT body_ct FROM positions").all()
    assert keys.rotate_data_keys(platform, [d]) == 1
    platform.key_cache.forget()
    assert (dialogues.view(platform, f, d), evaluations.evaluations(platform, f, d)) == before
    with platform.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT body_ct FROM positions").all() != sealed_before
        versions = (
            connection.exec_driver_sql(
                "SELECT version FROM dialogue_keys WHERE dialogue_id = ?", (d,)
            )
            .scalars()
            .all()
        )
    assert versions == [2]
    readable(platform, template)
    with pytest.raises(InputError, match="no such dialogue"):
        keys.rotate_data_keys(platform, ["nope"])
    assert keys.rotate_data_keys(platform) == len(template.dialogue_ids)
    readable(platform, template)
    close(platform)


def test_the_rotate_command(
    template: Template,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, old, new = template.copy(tmp_path / "cli")
    common = ["--database", url, "--key-file", str(old)]
    assert main(["keys", "rotate", *common, "--to-key-file", str(new)]) == 0
    assert "re-wrapped under the new key" in capsys.readouterr().out
    assert main(["keys", "rotate", *common, "--to-key-file", str(new)]) == 0
    assert "had finished" in capsys.readouterr().out
    common = ["--database", url, "--key-file", str(new)]
    monkeypatch.setenv("BACKCHANNEL_NEW_KEY_PASSPHRASE", "short")
    assert main(["keys", "rotate", *common, "--to-passphrase"]) == 2
    assert main(["keys", "rotate", *common]) == 2  # no new key
    assert main(["keys", "rotate", *common, "--data-keys"]) == 0
    assert "re-sealed" in capsys.readouterr().out
    assert main(["keys", "rotate", *common, "--data-keys", "--to-key-file", str(old)]) == 2


def test_two_factor_sign_in_outlives_a_rotation(tmp_path: Path) -> None:
    """The account-secrets key is wrapped by the KEK, so a rotation keeps every TOTP
    secret and recovery code working (derived from the KEK, they would all be lost)."""
    from backchannel.services import accounts, mfa
    from backchannel.storage.tables import utcnow
    from conftest import PASSWORD

    settings = make_settings(tmp_path)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    a1 = world.actors["a1"]
    secret = mfa.begin(platform, a1).secret
    now = utcnow()
    recovery = mfa.confirm(platform, a1, "", mfa.code_at(secret, mfa.step_of(now)), now=now)
    close(platform)
    new = tmp_path / "keys" / "new.key"
    init_key_file(new)
    keys.rotate_kek(settings, keys.NewKey(key_file=new))
    platform = Platform.open(settings.model_copy(update={"key_file": new}))
    later = now + timedelta(seconds=60)
    waiting = accounts.sign_in(platform, "a1", PASSWORD, "test", now=later)
    assert isinstance(waiting, accounts.Challenge)
    good = mfa.code_at(secret, mfa.step_of(later))
    done = accounts.complete_sign_in(platform, waiting.token, good, "test", now=later)
    assert isinstance(done, accounts.SignedIn)
    again = accounts.sign_in(platform, "a1", PASSWORD, "test", now=later)
    assert isinstance(again, accounts.Challenge)
    by_recovery = accounts.complete_sign_in(platform, again.token, recovery[0], "test", now=later)
    assert isinstance(by_recovery, accounts.SignedIn)
    close(platform)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_data_keys_are_not_rotated_while_a_server_runs(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Every server process caches the data keys: a rotation beside one would leave it
    sealing new fields with a dropped key. A serving process holds the lock; the rotation
    is refused until no process does."""
    url = f"sqlite:///{tmp_path / 'backchannel.db'}"
    if backend == "postgresql":
        server = request.getfixturevalue("postgres")
        url = server.url(server.new_database())
    platform = Platform.open(make_settings(tmp_path, database_url=url), upgrade=True)
    world = build_world(platform)
    first, second = platform.hold_serving(), platform.hold_serving()  # two workers
    with pytest.raises(NotAllowedNow, match="a server is running"):
        keys.rotate_data_keys(platform)
    first.release()
    with pytest.raises(NotAllowedNow, match="a server is running"):
        keys.rotate_data_keys(platform)
    second.release()
    second.release()  # releasing twice is harmless
    assert keys.rotate_data_keys(platform) == 1
    assert dialogues.view(platform, world.actors["facilitator"], world.dialogue_id).title
    close(platform)
