"""What the CLI loads at start-up (issue 14 §5), asserted without timing anything.

Each check runs in a fresh interpreter and reads its ``sys.modules``: importing the CLI
(all that ``backchannel --help`` needs) loads none of the heavy libraries, and
``backchannel check`` on each bundled example runs without OR-Tools, the web stack or
the database layer. ``benchmarks/startup_bench.py`` measures the times themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SERVER_AND_SOLVER = {"ortools", "pandas", "fastapi", "starlette", "sqlalchemy", "alembic"}
"""Top-level packages no short command needs."""


def _loaded(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    names: list[str] = json.loads(done.stdout.splitlines()[-1])
    return {name.split(".")[0] for name in names}


def test_importing_the_cli_loads_no_solver_server_or_numerical_library() -> None:
    loaded = _loaded("import backchannel.cli")
    heavy = SERVER_AND_SOLVER | {"numpy", "pydantic", "pydantic_settings", "cryptography"}
    assert loaded & heavy == set()
    assert "typer" in loaded  # the check itself sees what was imported


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_check_on_a_bundled_example_runs_without_or_tools(example: Path) -> None:
    code = (
        "import contextlib, io\n"
        "from backchannel.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['check', {str(example)!r}]) == 0\n"
    )
    loaded = _loaded(code)
    assert loaded & SERVER_AND_SOLVER == set()
    assert "numpy" in loaded  # the check did run the analysis


def test_cp_sat_loads_on_its_first_call() -> None:
    code = (
        "import sys\n"
        "from backchannel.solvers import engine\n"
        "assert 'ortools' not in sys.modules\n"
        "from backchannel.formats.cases import load_problem\n"
        "from pathlib import Path\n"
        f"_, problem = load_problem(Path({str(EXAMPLES[0])!r}))\n"
        "engine.cpsat_zone(problem, 10.0)\n"
    )
    assert "ortools" in _loaded(code)


def test_help_in_a_russian_locale_reads_no_catalogue() -> None:
    """The language is chosen at start-up, but its catalogue (Babel) is read only when a
    command shows a text: ``--help`` never does."""
    code = (
        "import contextlib, io, os\n"
        "os.environ['LANG'] = 'ru_RU.UTF-8'\n"
        "from backchannel.cli import main\n"
        "shown = io.StringIO()\n"
        "with contextlib.redirect_stdout(shown):\n"
        "    assert main(['--help']) == 0\n"
        "    assert main(['users', '--help']) == 0\n"
        "assert shown.getvalue().count('Usage:') == 2, shown.getvalue()\n"
    )
    assert "babel" not in _loaded(code)
