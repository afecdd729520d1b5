"""CP-SAT engine: large agendas, 3-8 parties, non-linear utilities, clashes, MESO.

Modules: :mod:`.model` (the one-hot scaled model), :mod:`.constraints` and
:mod:`.objectives` (one class per constraint kind and per rule), :mod:`.search`
(certified maximum and tie-break: why the integer answers are the float ones), and
one module per question.
"""

from backchannel.solvers.cpsat.clashes import cpsat_clashes
from backchannel.solvers.cpsat.frontier import cpsat_frontier
from backchannel.solvers.cpsat.meso import cpsat_meso
from backchannel.solvers.cpsat.settle import cpsat_settle
from backchannel.solvers.cpsat.zone import cpsat_zone

__all__ = ["cpsat_clashes", "cpsat_frontier", "cpsat_meso", "cpsat_settle", "cpsat_zone"]
