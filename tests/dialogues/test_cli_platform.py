"""The operator's commands: ``keys init`` and ``serve``, through the services only.

``serve`` hands uvicorn the application itself, built on the settings of the command
line and an opened platform, and leaves the environment alone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from backchannel.cli import main
from backchannel.config import Settings
from conftest import make_settings


def test_keys_init_writes_a_private_key_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "keys" / "kek.key"
    assert main(["keys", "init", "--key-file", str(key)]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    written = key.read_bytes()
    assert "key-encryption key written" in capsys.readouterr().out
    assert main(["keys", "init", "--key-file", str(key)]) == 2  # never overwritten
    assert "already exists" in capsys.readouterr().err
    assert main(["keys", "init", "--if-missing", "--key-file", str(key)]) == 0
    assert capsys.readouterr().out == ""
    assert key.read_bytes() == written


def test_serve_passes_its_settings_to_the_app_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    assert (
        main(
            [
                "db",
                "upgrade",
                "--database",
                settings.database_url,
                "--key-file",
                str(settings.key_file),
            ]
        )
        == 0
    )
    for name in ("BACKCHANNEL_DATABASE_URL", "BACKCHANNEL_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    served: dict[str, Any] = {}

    def run(app: object, **options: Any) -> None:
        served.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    command = ["serve", "--database", settings.database_url, "--key-file", str(settings.key_file)]
    assert main([*command, "--port", "8123"]) == 0
    app = served["app"]
    assert isinstance(app, FastAPI)
    given: Settings = app.state.settings
    assert (given.database_url, given.key_file, given.port) == (
        settings.database_url,
        settings.key_file,
        8123,
    )
    assert app.state.platform.settings is given
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    assert "BACKCHANNEL_DATABASE_URL" not in os.environ
    assert "BACKCHANNEL_KEY_FILE" not in os.environ


def test_demo_seeds_in_russian_and_refuses_an_unknown_language_before_any_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "kek.key"
    assert main(["keys", "init", "--key-file", str(key)]) == 0
    elsewhere = tmp_path / "de.db"
    args = ["--key-file", str(key), "--database", f"sqlite:///{elsewhere}"]
    assert main(["demo", "--language", "de", *args]) == 2
    assert "the demo is not written in 'de' (choose one of: en, ru)" in capsys.readouterr().err
    assert not elsewhere.exists()
    database = f"sqlite:///{tmp_path / 'ru.db'}"
    assert main(["demo", "--language", "ru", "--key-file", str(key), "--database", database]) == 0
    out = capsys.readouterr().out
    assert "Demo dialogue created" in out and "ru-1" in out
