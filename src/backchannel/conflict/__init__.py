"""GMCR: the Graph Model for Conflict Resolution (escalation and stability analysis).

The stability engine's public functions are :func:`analyze`, :func:`analyze_uncertain`,
:func:`explain` and :func:`status_quo_paths` (see :mod:`backchannel.conflict.analysis`).
"""

from backchannel.conflict.analysis import (
    CONCEPTS,
    DEFAULT_CONCEPTS,
    analyze,
    analyze_uncertain,
    explain,
    mover_index,
    mover_names,
    status_quo_paths,
)

__all__ = [
    "CONCEPTS",
    "DEFAULT_CONCEPTS",
    "analyze",
    "analyze_uncertain",
    "explain",
    "mover_index",
    "mover_names",
    "status_quo_paths",
]
