"""A node's folder: its key and certificate, its sealed position; unsafe modes refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backchannel.errors import BackchannelError, InputError
from backchannel.storage import node_identity as ni
from backchannel.storage.vault import KeyFileError

CANARY = "CANARY-7f3a-red-line-of-side-A"


def test_init_writes_a_private_key_and_a_certificate_whose_fingerprint_is_shown(
    tmp_path: Path,
) -> None:
    made = ni.init_identity(tmp_path / "node")
    assert made.key_path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "node").stat().st_mode & 0o777 == 0o700
    assert made.fingerprint == ni.fingerprint(made.cert_path.read_text(encoding="ascii"))
    assert len(made.fingerprint) == 64
    assert ni.load_identity(tmp_path / "node") == made
    with pytest.raises(KeyFileError, match="already exists"):
        ni.init_identity(tmp_path / "node")
    assert ni.load_identity(tmp_path / "node").fingerprint == made.fingerprint


def test_a_folder_or_key_open_to_others_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    made = ni.init_identity(folder)
    made.key_path.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"node key .* is readable by other users"):
        ni.load_identity(folder)
    made.key_path.chmod(0o600)
    folder.chmod(0o755)
    with pytest.raises(KeyFileError, match="open to other users"):
        ni.load_identity(folder)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(KeyFileError, match="open to other users"):
        ni.init_identity(shared)
    assert not (shared / ni.KEY_FILE).exists()


def test_a_sealed_position_opens_only_with_its_passphrase_and_hides_its_content(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "node"
    ni.init_identity(folder)
    secret = f'{{"title": "{CANARY}"}}'.encode()
    path = ni.seal_position(folder, secret, "correct passphrase")
    assert path.stat().st_mode & 0o777 == 0o600
    for file in folder.iterdir():
        assert CANARY.encode() not in file.read_bytes()
    assert ni.open_position(folder, "correct passphrase") == secret
    with pytest.raises(InputError, match="wrong passphrase for the position in"):
        ni.open_position(folder, "wrong passphrase")
    with pytest.raises(InputError, match="passphrase of the node's position is empty"):
        ni.seal_position(folder, secret, "")
    assert sorted(p.name for p in folder.iterdir()) == ["node.crt", "node.key", "position.sealed"]


def test_a_damaged_position_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    ni.init_identity(folder)
    assert not ni.has_position(folder)
    with pytest.raises(InputError, match="holds no position"):
        ni.open_position(folder, "x")
    (folder / ni.POSITION_FILE).write_text("{}", encoding="ascii")
    with pytest.raises(InputError, match="is not a sealed position"):
        ni.open_position(folder, "x")


def test_a_missing_folder_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(BackchannelError, match="is not a node folder") as caught:
        ni.load_identity(tmp_path / "none")
    assert "node init" in str(caught.value.hint)
    assert not os.path.exists(tmp_path / "none")
