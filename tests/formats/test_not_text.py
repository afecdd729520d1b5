"""Files that are not text: one located line, exit 2 and no traceback, in every format.

Every reader goes through :mod:`backchannel.formats.files`, so a NUL byte, bytes that
are not UTF-8 or a control character get the same message whatever the format: the
file, the line and the column. A byte-order mark is not a problem: it is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from backchannel.cli import main

from .samples import TWO_OPTIONS_CASE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"


DOMAIN = """\
<negotiation_template>
<utility_space number_of_issues="1">
<objective index="0" name="root" type="objective" etype="objective">
  <issue index="1" name="a" type="discrete" etype="discrete" vtype="discrete">
    <item index="1" value="x"/>
    <item index="2" value="y"/>
  </issue>
</objective>
</utility_space>
</negotiation_template>
"""

PROFILE = """\
<utility_space>
<objective index="0" name="root" type="objective" etype="objective">
  <issue index="1" name="a" type="discrete" etype="discrete" vtype="discrete">
    <item index="1" value="x" evaluation="{x}"/>
    <item index="2" value="y" evaluation="{y}"/>
  </issue>
  <weight index="1" value="1"/>
</objective>
</utility_space>
"""

BOM = b"\xef\xbb\xbf"

# (bytes inserted at line 2, column 3; what the message says)
SPOILERS = {
    "NUL byte": (b"\x00", "control character U+0000 (NUL) at column 3"),
    "invalid UTF-8": (b"caf\xe9", "not UTF-8 text: byte 0xe9 at column 6"),
    "control character": (b"\x1b", "control character U+001B at column 3"),
}


def _conflict_text(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> bytes:
    source = EXAMPLES / "prisoners_dilemma.yaml"
    if kind == "yaml":
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(line for line in lines if not line.startswith("#")).encode("utf-8")
    if kind == "json":
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        return json.dumps(data, indent=1).encode("utf-8")
    target = tmp_path / "made.gmcr"
    assert main(["conflict", "convert", str(source), str(target)]) == 0
    capsys.readouterr()
    return target.read_bytes()


Writer = Callable[[Path, Callable[[bytes], bytes]], tuple[Path, list[str]]]


def _case_file(suffix: str) -> Writer:
    def write(folder: Path, change: Callable[[bytes], bytes]) -> tuple[Path, list[str]]:
        text = (
            TWO_OPTIONS_CASE
            if suffix == ".yaml"
            else json.dumps(yaml.safe_load(TWO_OPTIONS_CASE), indent=1)
        )
        path = folder / f"case{suffix}"
        path.write_bytes(change(text.encode("utf-8")))
        return path, ["check", str(path)]

    return write


def _genius_folder(folder: Path, change: Callable[[bytes], bytes]) -> tuple[Path, list[str]]:
    domain = folder / "domain" / "d.xml"
    domain.parent.mkdir()
    domain.write_bytes(change(DOMAIN.encode("utf-8")))
    (folder / "domain" / "p1.xml").write_text(PROFILE.format(x=0, y=1), encoding="utf-8")
    (folder / "domain" / "p2.xml").write_text(PROFILE.format(x=1, y=0), encoding="utf-8")
    return domain, ["check", str(domain.parent)]


def _conflict_file(kind: str, capsys: pytest.CaptureFixture[str]) -> Writer:
    def write(folder: Path, change: Callable[[bytes], bytes]) -> tuple[Path, list[str]]:
        path = folder / f"conflict.{kind}"
        path.write_bytes(change(_conflict_text(kind, folder, capsys)))
        return path, ["conflict", "analyze", str(path)]

    return write


FORMATS = ["case YAML", "case JSON", "Genius XML", "conflict YAML", "conflict JSON", ".gmcr"]


def _writer(name: str, capsys: pytest.CaptureFixture[str]) -> Writer:
    return {
        "case YAML": _case_file(".yaml"),
        "case JSON": _case_file(".json"),
        "Genius XML": _genius_folder,
        "conflict YAML": _conflict_file("yaml", capsys),
        "conflict JSON": _conflict_file("json", capsys),
        ".gmcr": _conflict_file("gmcr", capsys),
    }[name]


def _spoil(data: bytes, bad: bytes) -> bytes:
    """``data`` with ``bad`` inserted at line 2, column 3."""
    first, rest = data.split(b"\n", 1)
    return first + b"\n" + rest[:2] + bad + rest[2:]


@pytest.mark.parametrize("spoiler", list(SPOILERS))
@pytest.mark.parametrize("name", FORMATS)
def test_a_file_that_is_not_text_gets_one_located_line_and_exit_2(
    name: str, spoiler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, said = SPOILERS[spoiler]
    path, argv = _writer(name, capsys)(tmp_path, lambda data: _spoil(data, bad))
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: {path}:2: ")
    assert said in lines[0]
    assert captured.out == ""


@pytest.mark.parametrize("name", FORMATS)
def test_a_byte_order_mark_is_dropped(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, argv = _writer(name, capsys)(tmp_path, lambda data: BOM + data)
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""


def test_an_xml_file_in_another_declared_encoding_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def latin1(data: bytes) -> bytes:
        text = '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + data.decode("utf-8")
        return text.replace('value="x"', 'value="café"').encode("latin-1")

    folder = tmp_path / "domain"
    folder.mkdir()
    (folder / "d.xml").write_bytes(latin1(DOMAIN.encode("utf-8")))
    for name, (x, y) in {"p1": (0, 1), "p2": (1, 0)}.items():
        profile = PROFILE.format(x=x, y=y).encode("utf-8")
        (folder / f"{name}.xml").write_bytes(latin1(profile))
    assert main(["check", "--json", str(folder)]) == 0
    assert "café" in json.loads(capsys.readouterr().out)["viable"]["a"]


def test_an_unknown_suffix_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.txt"
    path.write_text(TWO_OPTIONS_CASE, encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown file type '.txt'" in err
    assert "use .yaml, .yml, .json, .xml, a folder" in err


def test_a_missing_path_without_a_suffix_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["check"], ["conflict", "analyze"]):
        assert main([*argv, str(tmp_path / "nowhere")]) == 2
        assert "nowhere: (top level): no such file or folder" in capsys.readouterr().err
