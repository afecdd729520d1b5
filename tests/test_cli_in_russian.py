"""The CLI in Russian: the platform commands and their errors, chosen three ways.

One run of operator commands (keys, database, accounts, two-factor sign-in, non-papers,
the audit log, backups and readouts with the damage they find, a node, a case file with a
syntax error and one with schema errors), in process through :func:`backchannel.cli.main`:
with ``--language ru``
and with ``LANG=ru_RU.UTF-8`` every line it prints holds no English word (the detector of
the Russian page walk), and with ``LANG=C`` it is English; the exit codes are the same in
both languages. Values that are no prose (paths, keys, passwords, hashes, option and
variable names, quoted file text) are left out before the check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backchannel.cli import main
from still_english import NOT_ENGLISH, english_in

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
NOT_PROSE = re.compile(
    r"\S*[/\d]\S*"  # paths, addresses, keys, passwords, hashes, numbers
    r"|--[\w-]+"  # an option
    r"|\b[A-Z][A-Z_]+\b"  # a variable's name (BACKCHANNEL_PORT), a placeholder (SEQ:HASH)
    r"|`[^`]*`"  # a command to type
    r"|'[^']*'"  # a value or a text of the file, quoted as it is
)
CASE_KEYS = {"title", "description", "sources", "weighting", "issues", "parties", "metadata"}
ALLOWED = NOT_ENGLISH | CASE_KEYS | {"extra", "anna", "nobody", "sqlite", "port"}
"""Names that stay as they are: the accounts, the database's kind, a setting and a key of the
case file."""

BAD_YAML = "title: Talks\nissues: [a, b\nparties: []\n"
BAD_CASE = "title: Talks\nissues:\n  - name: Border\n    options: [open, closed]\nextra: 1\n"
BAD_WEIGHTS = """\
title: Торг
issues:
  - {name: Граница, options: [открыта, закрыта]}
parties:
  - name: Север
    weights: {Граница: 2, Море: 1}
    ratings: {Граница: {открыта: 100, заперта: 0}}
  - name: Юг
    weights: {Граница: 100}
    ratings: {Граница: {открыта: 150}}
    red_lines:
      - {id: юг, forbid: {issue: Граница, options: []}}
      - {id: юг, require: {issue: Граница, options: [закрыта]}}
"""


def _run(tmp: Path, prefix: list[str], monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each command of the run, as (command, exit code); their output stays captured."""
    db = ["--database", f"sqlite:///{tmp / 'backchannel.db'}", "--key-file", str(tmp / "kek")]
    monkeypatch.setenv("BACKCHANNEL_PASSWORD_HASH_MEMORY_KIB", "64")  # fast hashing: tests only
    (tmp / "bad.yaml").write_text(BAD_YAML, encoding="utf-8")
    (tmp / "case.yaml").write_text(BAD_CASE, encoding="utf-8")
    (tmp / "weights.yaml").write_text(BAD_WEIGHTS, encoding="utf-8")
    (tmp / "readout.html").write_text("<html></html>", encoding="utf-8")
    bak, secret = str(tmp / "b.bak"), str(tmp / "secret.key")
    commands = [
        ["keys", "init", "--key-file", str(tmp / "kek")],
        ["keys", "init", "--key-file", str(tmp / "kek")],
        ["db", "upgrade", *db],
        ["users", "create", "anna", *db],
        ["users", "deactivate", "nobody", *db],
        ["users", "require-mfa", "anna", *db],
        ["users", "reset-mfa", "anna", *db],
        ["nonpapers", "expire", *db],
        ["audit", "verify", *db],
        ["audit", "verify", "--expect", "zz", *db],
        ["audit", "verify", "--expect", "1:abc", *db],
        ["keys", "backup-init", "--secret-key", secret, "--public-key", str(tmp / "b.pub")],
        ["backup", "create", bak, "--public-key", str(tmp / "b.pub"), *db],
        ["backup", "verify", bak, "--secret-key", secret],
        ["backup", "verify", str(tmp / "readout.html")],
        ["readout", "verify", str(tmp / "readout.html"), "--key", "ed25519:nothing"],
        ["readout", "verify", str(tmp / "readout.html"), "--key-file", str(tmp / "kek")],
        ["node", "init", "--folder", str(tmp / "node")],
        ["check", str(tmp / "bad.yaml")],
        ["check", str(tmp / "case.yaml")],
        ["check", str(tmp / "weights.yaml")],
    ]
    done = [(" ".join(command[:2]), main([*prefix, *command])) for command in commands]
    monkeypatch.setenv("BACKCHANNEL_PORT", "many")
    done.append(("port", main([*prefix, "db", "upgrade", *db])))
    return done


EXPECTED = [
    ("keys init", 0),
    ("keys init", 2),  # the key file exists
    ("db upgrade", 0),
    ("users create", 0),
    ("users deactivate", 2),  # no such account
    ("users require-mfa", 0),
    ("users reset-mfa", 0),
    ("nonpapers expire", 0),
    ("audit verify", 0),
    ("audit verify", 2),  # --expect is not SEQ:HASH
    ("audit verify", 1),  # the checkpoint is not in the log
    ("keys backup-init", 0),
    ("backup create", 0),
    ("backup verify", 0),
    ("backup verify", 1),  # the file is no backup
    ("readout verify", 2),  # the key is no key
    ("readout verify", 1),  # the file is no readout
    ("node init", 0),
    ("check " + "{tmp}/bad.yaml", 2),
    ("check " + "{tmp}/case.yaml", 2),
    ("check " + "{tmp}/weights.yaml", 2),  # cross-references: unknown names, sums, twice
    ("port", 2),  # BACKCHANNEL_PORT is not a number
]


def _prose(text: str) -> list[str]:
    return [NOT_PROSE.sub("", line) for line in text.splitlines() if line.strip()]


def _expected(tmp: Path) -> list[tuple[str, int]]:
    return [(what.format(tmp=tmp), code) for what, code in EXPECTED]


@pytest.mark.parametrize(
    ("prefix", "lang"),
    [(["--language", "ru"], None), ([], "ru_RU.UTF-8")],
    ids=["option", "locale"],
)
def test_the_platform_commands_speak_russian(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prefix: list[str],
    lang: str | None,
) -> None:
    if lang:
        monkeypatch.setenv("LANG", lang)
    assert _run(tmp_path, prefix, monkeypatch) == _expected(tmp_path)
    captured = capsys.readouterr()
    lines = _prose(captured.out + captured.err)
    assert len(lines) >= 30
    assert english_in(lines, ALLOWED) == [], "\n".join(lines)
    assert "ошибка: " in captured.err and "проблема: " in captured.out
    assert "ключ шифрования ключей записан в" in captured.out
    assert "проблема: это не резервная копия Backchannel" in captured.out
    assert "в этом журнале нет (журнал откатили или подменили)" in captured.out


def test_the_c_locale_speaks_english_with_the_same_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "C")
    assert _run(tmp_path, [], monkeypatch) == _expected(tmp_path)
    captured = capsys.readouterr()
    names = re.compile(r"Граница|Море|открыта|закрыта|юг")  # the Russian case's own names
    assert not CYRILLIC.search(names.sub("", captured.out + captured.err))
    assert "key-encryption key written to" in captured.out
    assert "error: setting port: must be a whole number" in captured.err


def test_the_option_beats_the_variable_which_beats_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    monkeypatch.setenv("BACKCHANNEL_LANGUAGE", "en")
    assert main(["keys", "init", "--key-file", str(tmp_path / "a")]) == 0
    assert capsys.readouterr().out.startswith("key-encryption key written to")
    monkeypatch.setenv("BACKCHANNEL_LANGUAGE", "ru")
    assert main(["--language", "en", "keys", "init", "--key-file", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().out.startswith("key-encryption key written to")
    assert main(["keys", "init", "--key-file", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().out.startswith("ключ шифрования ключей записан в")


def test_an_unknown_language_is_refused_before_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "kek"
    assert main(["--language", "de", "keys", "init", "--key-file", str(key)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: 'de' is not a language Backchannel speaks (choose one of: en, ru)"
    ]
    monkeypatch.setenv("BACKCHANNEL_LANGUAGE", "klingon")
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")  # the refusal is said in the locale's language
    assert main(["keys", "init", "--key-file", str(key)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "ошибка: BACKCHANNEL_LANGUAGE='klingon': этот язык в Backchannel не поддерживается "
        "(выберите один из: en, ru)"
    ]
    assert not key.exists()


RUSSIAN_CASE = """\
title: Обмен
issues:
  - name: Граница
    options: [открыта, закрыта]
  - name: Пошлины
    options: [нет, есть]
parties:
  - name: Север
    weights: {Граница: 50, Пошлины: 50}
    ratings:
      Граница: {открыта: 100, закрыта: 0}
      Пошлины: {нет: 100, есть: 0}
    red_lines:
      - {id: север-граница, require: {issue: Граница, options: [открыта]}, firmness: 3}
  - name: Юг
    weights: {Граница: 50, Пошлины: 50}
    ratings:
      Граница: {открыта: 0, закрыта: 100}
      Пошлины: {нет: 0, есть: 100}
    red_lines:
      - {id: юг-граница, require: {issue: Граница, options: [закрыта]}, firmness: 2}
"""


def test_the_analysis_tables_speak_russian(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The headings and fixed labels of ``analyze`` (zone, red-line map, clashes, partial
    deal, settlements) and of ``frontier``; the engines' names stay as they are."""
    case = tmp_path / "case.yaml"
    case.write_text(RUSSIAN_CASE, encoding="utf-8")
    assert main(["--language", "ru", "analyze", str(case)]) == 0
    assert main(["--language", "ru", "frontier", str(case), "--issues", "Пошлины"]) == 0
    out = capsys.readouterr().out
    engines = {"issue", "enumeration", "cp", "sat"}  # the engines' names, as --json gives them
    lines = _prose(out)
    assert english_in(lines, ALLOWED | engines) == [], out
    for said in ("Карта красных линий", "Наименее затратные уступки", "Граница Парето (точная)"):
        assert said in out
