"""A stability analysis as packed bitmaps: the compact machine format of large results.

One bitmap per mover and concept (bit ``s`` set: state ``s`` is stable for that
mover) and one per concept for the equilibria, packed eight states to a byte,
little-endian bit order (state ``s`` is bit ``s % 8`` of byte ``s // 8``), beside the
state codes that give each index its Y/N string. The container and its names are
described in ``docs/reference/bitmap.md``; :mod:`backchannel.formats.bitmap` writes
and reads it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.reports import StabilityReport, UncertaintyReport

BITMAP_VERSION = 1
"""The version of the layout (the ``version`` array)."""


def pack(mask: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """Pack the last axis of a ``bool`` array, eight states a byte, little-endian bits."""
    return np.packbits(mask, axis=-1, bitorder="little")


def unpack(bits: NDArray[np.uint8], n_states: int) -> NDArray[np.bool_]:
    """The inverse of :func:`pack` for ``n_states`` states."""
    return np.unpackbits(bits, axis=-1, count=n_states, bitorder="little").astype(np.bool_)


def _report_arrays(prefix: str, report: StabilityReport) -> dict[str, NDArray[np.generic]]:
    arrays: dict[str, NDArray[np.generic]] = {}
    n_states = report.conflict.n_states
    for concept in report.concepts:
        arrays[f"{prefix}stable.{concept}"] = pack(report.stable[concept])
        equilibria = np.zeros(n_states, dtype=np.bool_)
        equilibria[report.equilibria[concept]] = True
        arrays[f"{prefix}equilibria.{concept}"] = pack(equilibria)
    return arrays


def analysis_bitmaps(
    conflict: CompiledConflict,
    report: StabilityReport,
    uncertainty: UncertaintyReport | None,
    state_names: Mapping[int, str],
) -> dict[str, NDArray[np.generic]]:
    """The named arrays of the bitmap container of one analysis.

    Parameters
    ----------
    conflict:
        The analysed conflict.
    report:
        Its stability report (preferences as given).
    uncertainty:
        The robust and possible readings, stored under the prefixes ``robust.`` and
        ``possible.``, or ``None``.
    state_names:
        The file's names of states, by state index.
    """
    named = sorted(state_names.items())
    arrays: dict[str, NDArray[np.generic]] = {
        "version": np.array([BITMAP_VERSION], dtype=np.int64),
        "options": np.array(conflict.option_ids, dtype=np.str_),
        "movers": np.array(report.movers, dtype=np.str_),
        "concepts": np.array(report.concepts, dtype=np.str_),
        "states": conflict.states.astype(np.uint64),
        "status_quo": np.array(
            [] if conflict.status_quo is None else [conflict.status_quo], dtype=np.int64
        ),
        "state_names.index": np.array([index for index, _ in named], dtype=np.int64),
        "state_names.name": np.array([name for _, name in named], dtype=np.str_),
        **_report_arrays("", report),
    }
    if uncertainty is not None:
        arrays.update(_report_arrays("robust.", uncertainty.robust))
        arrays.update(_report_arrays("possible.", uncertainty.possible))
    return arrays
