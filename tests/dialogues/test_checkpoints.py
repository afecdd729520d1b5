"""Signed audit checkpoints (issue 12 §2, G17): signed at each round transition, seen and
downloaded by each seat, and checked by ``backchannel audit verify --checkpoint``.

Each attack has its negative control: the same file passes against the intact log, and
the attack is caught only because of the checkpoint (the log alone still verifies).
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

from backchannel.cli import main
from backchannel.errors import InputError, NotFound
from backchannel.services import (
    audit_log,
    checkpoints,
    dialogues,
    evaluations,
    positions,
    releases,
    rounds,
)
from backchannel.services.platform import Platform
from backchannel.storage import audit, migrate
from backchannel.storage.db import make_engine
from backchannel.storage.tables import AuditEntryRow, MetaRow
from backchannel.storage.vault import KeyFileError
from backchannel.web.app import create_app
from conftest import World, build_world, close, make_settings

from .conftest import position_a, position_b, row_counts, sign_in


def run_round(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluation = evaluations.evaluate(p, f, d)
    releases.release(p, f, d, evaluation, world.delegation_a, "zone")


def save(world: World, who: str, path: Path) -> Path:
    found = checkpoints.document(world.platform, world.actors[who], world.dialogue_id)
    path.write_text(json.dumps(found))
    return path


def verify(platform: Platform, *files: Path) -> list[str]:
    return [
        str(p) for p in checkpoints.verify_database(platform.settings, [], list(files)).problems
    ]


def test_each_round_transition_is_signed_and_each_seat_sees_its_own(world: World) -> None:
    run_round(world)
    seen = {
        who: [
            (c["round"], c["event"])
            for c in checkpoints.document(world.platform, world.actors[who], world.dialogue_id)[
                "checkpoints"
            ]
        ]
        for who in ("facilitator", "a1", "b1", "observer")
    }
    shared = [(1, "round.opened"), (1, "round.locked"), (1, "round.evaluated")]
    assert seen["b1"] == seen["observer"] == shared
    assert seen["a1"] == seen["facilitator"] == [*shared, (1, "finding.released")]
    with pytest.raises(NotFound):
        checkpoints.document(world.platform, world.actors["outsider"], world.dialogue_id)


def test_a_downloaded_file_verifies_against_the_intact_log(world: World, tmp_path: Path) -> None:
    run_round(world)
    assert verify(world.platform, save(world, "a1", tmp_path / "a.json")) == []


@pytest.fixture
def logged(world: World, tmp_path: Path) -> tuple[World, Path, Path]:
    """The world after a round, an older copy of its database taken before the round was
    evaluated, and side B's checkpoint file."""
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    database = Path(p.settings.database_url.removeprefix("sqlite:///"))
    close(p)  # the WAL is checkpointed into the file: copy it whole
    older = tmp_path / "older.db"
    shutil.copyfile(database, older)
    p = world.platform = Platform.open(p.settings)
    evaluations.evaluate(p, f, d)
    return world, older, save(world, "b1", tmp_path / "b.json")


def test_a_rollback_to_an_older_copy_is_caught(logged: tuple[World, Path, Path]) -> None:
    world, older, file = logged
    database = Path(world.platform.settings.database_url.removeprefix("sqlite:///"))
    close(world.platform)
    shutil.copyfile(older, database)
    for name in (f"{database}-wal", f"{database}-shm"):
        Path(name).unlink(missing_ok=True)
    assert audit_log.verify(Platform.open(world.platform.settings)).ok  # alone it looks fine
    problems = verify(world.platform, file)
    assert len(problems) == 1 and "not in this log (rolled back or forked)" in problems[0]


def _rewrite_history(platform: Platform) -> None:
    """What an operator holding the KEK could do: change an entry and re-hash and re-MAC
    the whole chain after it, so that the log verifies on its own."""
    key = platform.audit_key
    with platform.unit() as s:
        prev = audit.GENESIS
        for row in s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)):
            if row.action == "round.locked":
                row.detail = json.dumps({"round": 1, "rewritten": True}, separators=(",", ":"))
            row.prev_hash = prev
            row.hash = audit._hash(prev, row)
            row.mac = audit._mac(key, row.hash)
            prev, last = row.hash, row.seq
        head = s.get(MetaRow, audit.HEAD_KEY)
        assert head is not None
        head.value = audit._head_value(key, last, prev)


def test_a_rewritten_history_is_caught(logged: tuple[World, Path, Path]) -> None:
    world, _, file = logged
    _rewrite_history(world.platform)
    assert audit_log.verify(world.platform).ok  # re-MACed: the log alone cannot tell
    problems = verify(world.platform, file)
    assert problems and all("not in this log" in p for p in problems)


def _edited(file: Path, **changes: Any) -> Path:
    found = json.loads(file.read_text())
    found["checkpoints"][-1].update(changes)
    file.write_text(json.dumps(found))
    return file


def test_a_forged_or_edited_checkpoint_is_refused(world: World, tmp_path: Path) -> None:
    run_round(world)
    file = save(world, "a1", tmp_path / "a.json")
    head = json.loads(file.read_text())["checkpoints"][-1]["head"]
    _edited(file, head="0" * 64)
    assert any("no valid signature (forged or altered)" in p for p in verify(world.platform, file))
    _edited(file, head=head, signature=base64.b64encode(b"\0" * 64).decode())
    assert any("no valid signature" in p for p in verify(world.platform, file))
    _edited(file, signature="not base64!")
    assert any("no valid signature" in p for p in verify(world.platform, file))


def test_a_checkpoint_of_another_server_is_refused(tmp_path: Path) -> None:
    other = Platform.open(make_settings(tmp_path / "other"), upgrade=True)
    world = build_world(other)
    run_round(world)
    file = save(world, "a1", tmp_path / "theirs.json")
    ours = Platform.open(make_settings(tmp_path / "ours"), upgrade=True)
    run_round(build_world(ours))
    problems = verify(ours, file)
    assert problems and all("not by this server's key" in p for p in problems)
    assert verify(other, file) == []  # negative control: the server that signed it agrees


def test_the_signing_key_lives_beside_the_kek_and_is_pinned(world: World) -> None:
    settings = world.platform.settings
    path = settings.signing_key_path
    assert path.parent == Path(settings.key_file).parent and path.stat().st_mode & 0o077 == 0
    kept = path.read_bytes()
    path.unlink()
    with pytest.raises(KeyFileError, match="not found"):
        Platform.open(settings)
    path.write_bytes(kept)
    path.chmod(0o600)
    assert Platform.open(settings).signer.public == world.platform.signer.public


def test_the_commands_check_a_checkpoint_file(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_round(world)
    settings = world.platform.settings
    file = save(world, "b1", tmp_path / "b.json")
    common = ["--database", settings.database_url, "--key-file", str(settings.key_file)]
    assert main(["audit", "verify", *common, "--checkpoint", str(file)]) == 0
    _edited(file, round=7)
    assert main(["audit", "verify", *common, "--checkpoint", str(file)]) == 1
    assert "problem: checkpoint of round 7" in capsys.readouterr().out
    (tmp_path / "junk.json").write_text("[]")
    assert main(["audit", "verify", *common, "--checkpoint", str(tmp_path / "junk.json")]) == 2
    with pytest.raises(InputError, match="not a checkpoint file"):
        checkpoints.read_file(tmp_path / "junk.json")


def test_the_page_shows_the_key_and_offers_the_file(world: World) -> None:
    run_round(world)
    client = sign_in(create_app(world.platform.settings, world.platform), "b1").client
    key = checkpoints.public_key(world.platform)
    for page in ("", "/log"):
        html = client.get(f"/d/{world.dialogue_id}{page}").text
        assert key in html and f"/d/{world.dialogue_id}/checkpoints" in html
    download = client.get(f"/d/{world.dialogue_id}/checkpoints")
    assert "attachment" in download.headers["content-disposition"]
    assert download.json()["key"] == key
    api = client.get(f"/api/v1/dialogues/{world.dialogue_id}/checkpoints").json()
    assert api == download.json() and len(api["checkpoints"]) == 3


def test_signatures_cover_every_field(world: World) -> None:
    run_round(world)
    item = checkpoints.document(world.platform, world.actors["a1"], world.dialogue_id)[
        "checkpoints"
    ][0]
    for name in ("dialogue", "round", "event", "head", "at"):
        changed = {**item, name: item[name] + 1 if isinstance(item[name], int) else "x"}
        _, problems = checkpoints.screen(world.platform, [changed])
        assert problems, name
    _, problems = checkpoints.screen(world.platform, [item])
    assert problems == []


def test_a_checkpoint_does_not_tell_how_busy_the_server_is(world: World, tmp_path: Path) -> None:
    """The global entry number would show how many actions of other dialogues and sides
    happened between two rounds: it is neither in the file nor under the signature."""
    for n in range(3):  # another dialogue's activity, which a side must not be able to count
        dialogues.create_dialogue(world.platform, world.actors["facilitator"], f"Other {n}")
    run_round(world)
    found = json.loads(save(world, "b1", tmp_path / "b.json").read_text())
    assert found["checkpoints"] and all("seq" not in c for c in found["checkpoints"])
    assert all(c["format"] == "backchannel-checkpoint-v2" for c in found["checkpoints"])
    assert verify(world.platform, tmp_path / "b.json") == []


def _signed_v1(platform: Platform, item: dict[str, Any], seq: int) -> dict[str, Any]:
    """``item`` as format v1 signed it: with the entry's sequence number."""
    fields = {**item, "format": "backchannel-checkpoint-v1", "seq": seq}
    del fields["signature"]
    signature = platform.signer.sign(fields)
    return {**fields, "signature": base64.b64encode(signature).decode()}


def test_a_file_of_format_v1_still_verifies(world: World, tmp_path: Path) -> None:
    run_round(world)
    found = checkpoints.document(world.platform, world.actors["a1"], world.dialogue_id)
    with world.platform.view() as s:
        seq_of = {row.hash: row.seq for row in s.scalars(select(AuditEntryRow))}
    found["checkpoints"] = [
        _signed_v1(world.platform, c, seq_of[c["head"]]) for c in found["checkpoints"]
    ]
    file = tmp_path / "v1.json"
    file.write_text(json.dumps(found))
    assert verify(world.platform, file) == []
    _edited(file, seq=found["checkpoints"][-1]["seq"] + 1)  # v1 signs its seq
    assert any("no valid signature" in p for p in verify(world.platform, file))


# ------------------------------------------------------------------ migration 0005
def kept_rows(engine: Engine) -> dict[str, int]:
    """Rows per table of schema 0004 (the data the migration must keep)."""
    return {table: n for table, n in row_counts(engine).items() if table != "checkpoints"}


def test_migration_0005_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    run_round(world)
    file = save(world, "a1", tmp_path / "a.json")
    close(platform)

    engine = make_engine(database_url)
    before = kept_rows(engine)
    assert before["dialogue_keys"] and before["audit_log"]
    migrate.downgrade(engine, "0004")
    assert "checkpoints" not in inspect(engine).get_table_names()
    assert "wrapped_next" not in {c["name"] for c in inspect(engine).get_columns("dialogue_keys")}
    assert kept_rows(engine) == before
    migrate.upgrade(engine)
    assert kept_rows(engine) == before
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM checkpoints")).scalar() == 0
        wrapped = connection.execute(text("SELECT wrapped_next FROM dialogue_keys")).scalars()
        assert set(wrapped.all()) == {None}
    engine.dispose()

    reopened = Platform.open(settings)
    assert verify(reopened, file) == []  # the log the checkpoints were signed on is intact
    rounds.open_round(reopened, world.actors["facilitator"], world.dialogue_id)
    assert checkpoints.document(reopened, world.actors["b1"], world.dialogue_id)["checkpoints"]
    close(reopened)
