"""``backchannel node``: init, show, position and the refusals of run, exit codes and text.

No party process starts here (the runs are in ``test_blind_node.py``).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from backchannel.blind.plan import Finding
from backchannel.blind.run import split_case
from backchannel.blind.session import session_document
from backchannel.cli import main
from backchannel.formats.cases import save_case
from backchannel.storage.node_identity import init_identity

from .test_blind_transcript import FIRST


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["node", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_prints_what_to_give_the_facilitator_and_show_prints_it_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "node"
    code, out, _ = _run(capsys, "init", "--folder", str(folder))
    assert code == 0
    fingerprint = out.split("fingerprint (SHA-256): ")[1].split()[0]
    assert len(fingerprint) == 64 and f"certificate: {folder / 'node.crt'}" in out
    code, again, _ = _run(capsys, "show", "--folder", str(folder))
    assert code == 0 and fingerprint in again
    code, _, err = _run(capsys, "init", "--folder", str(folder))
    assert code == 2 and "node.key already exists" in err


def test_position_refuses_a_case_with_two_delegations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKCHANNEL_NODE_PASSPHRASE", "p")
    folder = tmp_path / "node"
    init_identity(folder)
    both = tmp_path / "both.json"
    save_case(FIRST, both)
    code, _, err = _run(capsys, "position", "--folder", str(folder), "--side", str(both))
    assert code == 2 and "exactly one delegation, this file holds 2" in err
    assert not (folder / "position.sealed").exists()


def test_run_with_a_wrong_passphrase_is_a_clear_error_before_any_party_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = [tmp_path / f"n{i}" for i in range(3)]
    identities = [init_identity(f) for f in folders]
    side = tmp_path / "side.json"
    save_case(split_case(FIRST)[0], side)
    monkeypatch.setenv("BACKCHANNEL_NODE_PASSPHRASE", "the right one")
    code, out, _ = _run(capsys, "position", "--folder", str(folders[0]), "--side", str(side))
    assert code == 0 and "sealed the position" in out
    doc = session_document(
        FIRST,
        Finding.EXISTS,
        [i.certificate for i in identities],
        [("127.0.0.1", 1), ("127.0.0.1", 2), ("127.0.0.1", 3)],
    )
    session = tmp_path / "session.json"
    session.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv("BACKCHANNEL_NODE_PASSPHRASE", "a wrong one")
    args = ["run", "--folder", str(folders[0]), "--session", str(session), "--index", "0"]
    code, _, err = _run(capsys, *args)
    assert code == 2 and "wrong passphrase for the position in" in err
    assert "Traceback" not in err


def test_run_with_a_bad_session_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "node"
    init_identity(folder)
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"format": "backchannel-blind-session/1"}), encoding="utf-8")
    code, _, err = _run(
        capsys, "run", "--folder", str(folder), "--session", str(session), "--index", "0"
    )
    assert code == 2 and "session document: computation: missing" in err


def test_connect_once_to_a_server_that_does_not_answer_says_where_and_what_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKCHANNEL_NODE_TOKEN", "t" * 43)
    folder = tmp_path / "node"
    init_identity(folder)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    code, _, err = _run(capsys, "connect", "--folder", str(folder), "--server", url, "--once")
    assert code == 2, err
    assert f"cannot reach the coordinating server at {url}" in err and "--server" in err
