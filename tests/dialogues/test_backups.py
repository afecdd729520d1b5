"""Encrypted backups and the restore drill (issue 12 §2, G21).

The drill: data in every table, a backup taken while a thread keeps writing, the
database destroyed, the backup restored into a new one; the audit log verifies and
every record equals the original, table by table (the rows the writer added after the
snapshot are the only difference, and the writer's rows in the copy are a gap-free
prefix of what it committed). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from backchannel.cli import main
from backchannel.errors import InputError
from backchannel.model.text import Draft
from backchannel.services import (
    accounts,
    audit_log,
    backups,
    computations,
    dialogues,
    escalation,
    evaluations,
    meetings,
    mfa,
    nonpapers,
    notes,
    once,
    positions,
    readouts,
    records,
    releases,
    rounds,
    text_views,
    texts,
)
from backchannel.services.platform import Platform
from backchannel.storage import backup_file, repo
from backchannel.storage.backup_file import BackupKeyError, DamagedBackup
from backchannel.storage.tables import Base, utcnow
from blind_world import build_blind
from conftest import PASSWORD, Server, build_world, close, make_settings

from .conftest import position_a, position_b

NOTE = "canary-private-note-7f3a"


@pytest.fixture
def secret_key(tmp_path: Path) -> Path:
    """A backup key pair: the public key where the settings look, the secret one offline."""
    secret = tmp_path / "offline" / "backup.key"
    backup_file.init_key_pair(tmp_path / "keys" / "backup.pub", secret)
    return secret


def settings_for(tmp_path: Path, url: str) -> Any:
    return make_settings(tmp_path, database_url=url, backup_public_key=tmp_path / "keys/backup.pub")


def populate(platform: Platform) -> None:
    """Put at least one row in every table of the schema."""
    world = build_world(platform)
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world, note=NOTE))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluation = evaluations.evaluate(p, f, d)
    releases.release(p, f, d, evaluation, world.delegation_a, "zone")
    text = texts.create_text(p, f, d, "Communiqué", [Draft(body=f"The clause {NOTE}.")])
    clause = text_views.text_view(p, f, d, text).clauses[0].clause.id
    texts.respond(p, world.actors["a1"], d, text, 1, [(clause, "agree", "", NOTE)])
    text_views.release(p, f, d, text, world.delegation_a, 1, world.delegation_b)
    dialogues.invite(p, f, d, "member", delegation_id=world.delegation_a, track="expert")
    accounts.sign_in(p, "a1", PASSWORD, "192.0.2.1")
    with pytest.raises(InputError):
        accounts.sign_in(p, "a1", "not the password", "192.0.2.1")
    b1 = world.actors["b1"]  # two-factor sign-in: a secret, recovery codes, a sign-in waiting
    secret = mfa.begin(p, b1).secret
    mfa.confirm(p, b1, "", mfa.code_at(secret, mfa.step_of(utcnow())))
    assert isinstance(accounts.sign_in(p, "b1", PASSWORD, "192.0.2.1"), accounts.Challenge)
    a1 = world.actors["a1"].user_id  # a write sent once (Idempotency-Key), its answer kept
    assert once.claim(p, a1, "key-1", once.fingerprint("POST", "/api/v1/x", b"{}")) is None
    once.complete(p, a1, "key-1", once.Answer(201, b'{"id": "x"}'))
    with p.view() as s:  # a meeting with attendance, its record, an answer, notes, a non-paper
        attending = [m.id for m in repo.members(s, d) if m.role == "member"]
    plan = meetings.MeetingPlan(
        starts="2030-03-14T10:00", zone="Europe/Vienna", place="Vienna", attendees=attending
    )
    meeting = meetings.schedule(p, f, d, plan)
    records.write(p, f, d, meeting, "What was said.")
    records.answer(p, world.actors["a1"], d, meeting, 1, "confirmed")
    notes.save_note(p, world.actors["a1"], d, meeting, "Who said it.")
    nonpapers.circulate(p, f, d, "A deniable draft.", 30)
    chicken = Path(__file__).resolve().parents[2] / "examples" / "conflicts" / "chicken.yaml"
    escalation.import_model(p, f, d, chicken.name, chicken.read_bytes())  # an escalation model
    draft = readouts.draft(p, f, d, world.delegation_a, "en")  # an issued readout, sealed
    readouts.issue(p, f, d, world.delegation_a, "en", "html", "a4", draft.basis)
    blind = build_blind(p, prefix="blind-")  # a blind dialogue: nodes, a computation
    computations.request(p, blind.actors["facilitator"], blind.dialogue_id, "exists")
    empty = [t for t in Base.metadata.tables if not rows_of(platform)[t]]
    assert not empty, f"tables left empty: {empty}"


def rows_of(platform: Platform) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and Alembic's), sorted, as the database returns them."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with platform.engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            found[table] = sorted((tuple(r) for r in rows), key=repr)
    return found


class Writer(threading.Thread):
    """Creates accounts one after another until stopped; remembers the committed ones."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(daemon=True)
        self.platform = platform
        self.committed: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                name = f"writer{len(self.committed):04d}"
                accounts.create_user(self.platform, name, name, PASSWORD)
                self.committed.append(name)
        except BaseException as error:  # pragma: no cover - reported by the test
            self.error = error

    def wait_for(self, count: int) -> None:
        while len(self.committed) < count and self.is_alive():
            self.stop.wait(0.01)


def destroy(url: str, platform: Platform, server: Server | None) -> None:
    close(platform)
    if server is None:
        path = Path(url.removeprefix("sqlite:///"))
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            name.unlink(missing_ok=True)
    else:
        with server.admin() as connection:
            connection.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_restore_drill_while_writing(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, secret_key: Path
) -> None:
    settings = settings_for(tmp_path, database_url)
    platform = Platform.open(settings, upgrade=True)
    populate(platform)
    writer = Writer(platform)
    writer.start()
    writer.wait_for(3)
    made = backups.create_backup(platform, tmp_path / "out" / "nightly.bcbackup")
    during = len(writer.committed)
    writer.wait_for(during + 3)
    writer.stop.set()
    writer.join()
    assert writer.error is None
    before = rows_of(platform)
    server = request.getfixturevalue("postgres") if made.database == "postgresql" else None
    destroy(database_url, platform, server)

    raw = made.path.read_bytes()
    assert NOTE.encode() not in raw and b"SQLite format 3" not in raw and b"PGDMP" not in raw
    assert backups.verify_backup(made.path).ok  # structural, as the server can
    checked = backups.verify_backup(made.path, secret_key)
    assert checked.ok and checked.decrypted, checked.problems

    target = (
        f"sqlite:///{tmp_path / 'restored' / 'bc.db'}"
        if server is None
        else server.url(server.new_database())
    )
    assert backups.restore_backup(made.path, secret_key, target) == made.database
    restored = Platform.open(settings_for(tmp_path, target))
    try:
        report = audit_log.verify(restored)
        assert report.ok, report.problems
        after = rows_of(restored)
    finally:
        close(restored)

    assert after.keys() == before.keys()
    users = [name for (_, name, *_rest) in after["users"] if name.startswith("writer")]
    assert sorted(users) == writer.committed[: len(users)]  # a gap-free prefix ...
    assert 3 <= len(users) < len(writer.committed)  # ... taken while the writer wrote
    head = max(row[0] for row in after["audit_log"])
    for table, rows in before.items():
        if table == "meta":  # the head moved on with the later writes; nothing else did
            assert [r for r in after[table] if r[0] != "audit_head"] == [
                r for r in rows if r[0] != "audit_head"
            ]
        elif table == "users":
            assert after[table] == [r for r in rows if r[1] not in writer.committed[len(users) :]]
        elif table == "audit_log":
            assert after[table] == [r for r in rows if r[0] <= head]
        else:
            assert after[table] == rows, table


@pytest.fixture
def backup(tmp_path: Path, secret_key: Path) -> Iterator[Path]:
    settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'bc.db'}")
    platform = Platform.open(settings, upgrade=True)
    populate(platform)
    made = backups.create_backup(platform, tmp_path / "b.bcbackup")
    yield made.path
    close(platform)


def test_a_truncated_backup_is_found_without_the_key(backup: Path) -> None:
    whole = backup.read_bytes()
    chunk = backup_file.CHUNK + backup_file.TAG + 4
    for cut in (len(whole) - 1, len(whole) - 20, len(whole) - chunk, 30, 10):
        backup.write_bytes(whole[:cut])
        assert not backups.verify_backup(backup).ok, cut
    backup.write_bytes(b"not a backup at all")
    assert "not a Backchannel backup" in str(backups.verify_backup(backup).problems[0])


def test_every_altered_byte_is_found_with_the_key(backup: Path, secret_key: Path) -> None:
    whole = bytearray(backup.read_bytes())
    header_end = len(backup_file.MAGIC) + 4 + int.from_bytes(whole[len(backup_file.MAGIC) :][:4])
    for at in (header_end - 2, header_end + 10, len(whole) // 2, len(whole) - 1):
        changed = bytearray(whole)
        changed[at] ^= 0x01
        backup.write_bytes(changed)
        report = backups.verify_backup(backup, secret_key)
        assert not report.ok, at
        with pytest.raises((DamagedBackup, BackupKeyError)):
            backups.restore_backup(backup, secret_key, f"sqlite:///{backup.parent / 'x.db'}")
        assert not (backup.parent / "x.db").exists()  # nothing written from a damaged file
    backup.write_bytes(whole)
    assert backups.verify_backup(backup, secret_key).ok  # negative control: intact passes


def test_only_the_matching_secret_key_opens_a_backup(backup: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "backup.key"
    backup_file.init_key_pair(tmp_path / "other" / "backup.pub", other)
    with pytest.raises(BackupKeyError, match="sealed to key"):
        backups.restore_backup(backup, other, f"sqlite:///{tmp_path / 'x.db'}")
    other.chmod(0o644)
    with pytest.raises(BackupKeyError, match="readable by other users"):
        backups.verify_backup(backup, other)


def test_restore_never_overwrites_without_force(backup: Path, secret_key: Path) -> None:
    live = backup.parent / "bc.db"
    with pytest.raises(InputError, match="exists"):
        backups.restore_backup(backup, secret_key, f"sqlite:///{live}")
    target = backup.parent / "copy.db"
    backups.restore_backup(backup, secret_key, f"sqlite:///{target}")
    assert target.stat().st_mode & 0o077 == 0
    target.write_bytes(b"something else")
    backups.restore_backup(backup, secret_key, f"sqlite:///{target}", force=True)
    assert target.read_bytes().startswith(b"SQLite format 3")


def test_the_backup_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path)
    Platform.open(settings, upgrade=True)
    secret = tmp_path / "offline" / "backup.key"
    public = tmp_path / "keys" / "backup.pub"
    common = ["--database", settings.database_url, "--key-file", str(settings.key_file)]
    init = ["keys", "backup-init", "--secret-key", str(secret), "--public-key", str(public)]
    assert main(init) == 0
    assert "move it offline" in capsys.readouterr().out
    assert secret.stat().st_mode & 0o077 == 0
    out = tmp_path / "b.bcbackup"
    assert main(["backup", "create", str(out), *common, "--public-key", str(public)]) == 0
    assert "sealed to key" in capsys.readouterr().out
    assert main(["backup", "create", str(out), *common, "--public-key", str(public)]) == 2
    assert main(["backup", "verify", str(out)]) == 0
    assert "not decrypted" in capsys.readouterr().out
    assert main(["backup", "verify", str(out), "--secret-key", str(secret)]) == 0
    assert "decrypted and checked" in capsys.readouterr().out
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    restore = ["backup", "restore", str(out), "--secret-key", str(secret), "--database", target]
    assert main(restore) == 0
    verify = ["audit", "verify", "--database", target, "--key-file", str(settings.key_file)]
    assert main(verify) == 0
    assert main(restore) == 2  # exists
    out.write_bytes(out.read_bytes()[:-5])
    assert main(["backup", "verify", str(out)]) == 1
    assert "problem:" in capsys.readouterr().out
