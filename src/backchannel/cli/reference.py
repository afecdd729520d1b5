"""Generate the CLI reference (docs/reference/cli.md) from the commands themselves.

``python -m backchannel.cli.reference --write docs/reference/cli.md`` regenerates it;
``--check docs/reference/cli.md`` fails when the file is out of date, so that CI catches an
undocumented command or option.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from backchannel.cli import app

HEADER = """# CLI reference

Generated from the commands by `python -m backchannel.cli.reference --write docs/reference/cli.md`;
CI fails when it is out of date.

Exit codes: **0** done; **1** an internal error (one line that names it; the global
`--debug` flag shows its traceback); **2** bad input (the message names the file, the place
in it, what is wrong and how to fix it), or a question too large to answer here (the message
gives the estimate and what to do); **3** a time limit was reached before the answer was
proven (the best answer found is printed).

Language: the global `--language en|ru` (else `BACKCHANNEL_LANGUAGE`, else the locale's
`LC_ALL`, `LC_MESSAGES` or `LANG`, else English) chooses the language of what the commands
print and of their errors; the exit codes are the same in every language. The help texts
below, and the usage errors of the command line itself, are in English.
"""


def _section(command: Any, path: list[str], out: list[str]) -> None:
    context = command.context_class(command, info_name=" ".join(path))
    level = "#" * min(len(path) + 1, 4)
    out.append(f"\n{level} `{' '.join(path)}`\n")
    help_text = (command.help or "").strip()
    if help_text:
        out.append(help_text + "\n")
    usage = command.get_usage(context).replace("Usage: ", "")
    out.append(f"```\n{usage}\n```\n")
    rows = []
    for param in command.get_params(context):
        record = param.get_help_record(context)
        if record is None:
            if param.param_type_name == "argument":
                rows.append((param.human_readable_name, getattr(param, "help", "") or ""))
            continue
        rows.append(record)
    if rows:
        out.append("| argument / option | description |\n|---|---|\n")
        for name, text in rows:
            out.append(f"| `{name}` | {text.replace('|', '/')} |\n")
    if isinstance(command, TyperGroup):
        for name in sorted(command.list_commands(context)):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                _section(sub, [*path, name], out)


def reference() -> str:
    """The whole reference as Markdown."""
    root = typer.main.get_command(app)
    out = [HEADER]
    assert isinstance(root, TyperGroup)
    context = root.context_class(root, info_name="backchannel")
    out.append("\n## Global options\n\nGiven before the command: ")
    out.append("`backchannel --debug check case.yaml`.\n\n| option | description |\n|---|---|\n")
    for param in root.get_params(context):
        record = param.get_help_record(context)
        if record is not None and record[0] != "--help":
            out.append(f"| `{record[0]}` | {record[1].replace('|', '/')} |\n")
    for name in sorted(root.list_commands(context)):
        command = root.get_command(context, name)
        if command is not None and not command.hidden:
            _section(command, ["backchannel", name], out)
    return "".join(out)


def main(argv: list[str]) -> int:
    """``--write PATH`` or ``--check PATH``."""
    if len(argv) != 2 or argv[0] not in ("--write", "--check"):
        print("usage: python -m backchannel.cli.reference --write|--check docs/reference/cli.md")
        return 2
    mode, target = argv[0], Path(argv[1])
    text = reference()
    if mode == "--write":
        target.write_text(text, encoding="utf-8")
        return 0
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    if current != text:
        print(f"{target} is out of date: run python -m backchannel.cli.reference --write {target}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
