"""CP-SAT engine: large agendas, 3-8 parties, non-linear utilities, clashes, MESO.

Modules: :mod:`.model` (the one-hot scaled model), :mod:`.constraints` and
:mod:`.objectives` (one class per constraint kind and per rule), :mod:`.search`
(certified maximum and tie-break: why the integer answers are the float ones), and
one module per question.

The five entry points below import their module, and OR-Tools with it (about half a
second), on their first call: a command that never runs CP-SAT never loads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


def _on_first_call(home: str, name: str) -> Any:
    """``name`` of the submodule ``home``, imported when it is first called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(f"{__name__}.{home}"), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Run :func:`{__name__}.{home}.{name}` (imported on the first call)."
    return call


if TYPE_CHECKING:
    from backchannel.solvers.cpsat.clashes import cpsat_clashes
    from backchannel.solvers.cpsat.frontier import cpsat_frontier
    from backchannel.solvers.cpsat.meso import cpsat_meso
    from backchannel.solvers.cpsat.settle import cpsat_settle
    from backchannel.solvers.cpsat.zone import cpsat_zone
else:
    cpsat_clashes = _on_first_call("clashes", "cpsat_clashes")
    cpsat_frontier = _on_first_call("frontier", "cpsat_frontier")
    cpsat_meso = _on_first_call("meso", "cpsat_meso")
    cpsat_settle = _on_first_call("settle", "cpsat_settle")
    cpsat_zone = _on_first_call("zone", "cpsat_zone")

__all__ = ["cpsat_clashes", "cpsat_frontier", "cpsat_meso", "cpsat_settle", "cpsat_zone"]
