"""The secure computation of each finding, run by every party with MPyC.

Party ``d < delegations`` is delegation ``d`` and secret-shares only its own vectors
(:mod:`backchannel.blind.local`); the helpers (the remaining parties) supply nothing.
Every party runs the same code; only the opened values leave the computation:

* ``overlap``: ``open_i = [sum_o prod_d option_ok_d[i, o] >= 1]``, one bit per issue,
  the bits opened together (never the counts);
* ``exists``: ``[sum_x prod_d package_ok_d[x] >= 1]``, one bit;
* ``redlines``: per component ``C``, ``b_C = [sum_y prod_d component_ok_d[C, y] >= 1]``
  (kept secret), and ``[sum_C b_C >= |components|]`` opened, one bit;
* ``nash``: the sort key ``k_x = ok_x * (prod_d g_d[x] * (D*S + 1) + sum_d g_d[x] + 1)``
  with ``ok_x = prod_d package_ok_d[x]``; a secure argmax returns the first package of
  largest key. Keys order packages by Nash product, then by sum of gains (the sum of
  utilities up to a constant, the clear engine's welfare tie-break), then by position
  (the smallest option-index vector); ``k_x = 0`` exactly when ``x`` is not admissible.
  The bit ``[sum_x ok_x >= 1]`` is opened first and the package index only when it is 1
  (with none, no gain is shared and nothing compared);
* ``random`` (Frikken-Atallah): ``y`` dominates ``x`` when ``prod_d at_least_d[x, y]
  - prod_d equal_d[x, y] = 1`` (each side folded its acceptance of ``y`` into its own
  comparisons, and equal gains everywhere imply gains at least as large everywhere);
  ``x`` is efficient when ``ok_x = 1`` and no package dominates it; every party (helpers
  too) shares a vector of random 30-bit integers, and the argmax of ``efficient_x *
  (R_x + 1)`` (``R`` their sum, so uniform and independent across packages while one
  party draws honestly) is opened as for ``nash`` (an efficient package exists exactly
  when an admissible one does, so that bit is opened first, before any pair is shared).

The cost is one secure multiplication per package and delegation for ``exists`` and a
few more plus one comparison per package for ``nash``; no comparison ever involves a
single side's utility, which its own node compared with its own walk-away level.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

from backchannel.blind.local import SideInputs
from backchannel.blind.plan import Finding, key_bits


@dataclass(frozen=True)
class Opened:
    """What a blind evaluation opened: ``overlap``; ``exists``; or ``exists`` and ``package``."""

    overlap: tuple[bool, ...] | None = None
    exists: bool | None = None
    package: tuple[int, ...] | None = None


def _shared(mpc: Any, sectype: Any, own: Any, length: int, delegations: int) -> list[Any]:
    """Every delegation's vector as a secret-shared array (own values, zeros elsewhere)."""
    vectors = []
    for d in range(delegations):
        values = own if (own is not None and mpc.pid == d) else np.zeros(length, dtype=np.int64)
        vectors.append(mpc.input(sectype.array(np.asarray(values, dtype=np.int64)), senders=d))
    return vectors


def _selection(blocks: list[int]) -> Any:
    """The public 0/1 matrix summing consecutive blocks of a vector."""
    select = np.zeros((sum(blocks), len(blocks)), dtype=np.int64)
    start = 0
    for b, size in enumerate(blocks):
        select[start : start + size, b] = 1
        start += size
    return select


def _product(vectors: list[Any]) -> Any:
    result = vectors[0]
    for vector in vectors[1:]:
        result = result * vector
    return result


async def _argmax(mpc: Any, keys: Any, packages: int, chunk: int) -> tuple[Any, Any]:
    """The first index of the largest key and that key, ``chunk`` keys at a time.

    Each chunk's secure argmax is finished before the next starts, so that memory holds
    one chunk's comparisons; a later chunk replaces the running best only when its key
    is strictly larger, which keeps the first occurrence overall.
    """
    best_index: Any = None
    best_key: Any = None
    for start in range(0, packages, chunk):
        index, top = mpc.np_argmax(keys[start : start + chunk], arg_only=False)
        index = index + start
        if best_key is None:
            best_index, best_key = index, top
        else:
            later = best_key < top
            best_index = mpc.if_else(later, index, best_index)
            best_key = mpc.if_else(later, top, best_key)
        await mpc.barrier()
    return best_index, best_key


RANDOM_BITS = 30
"""Bits of each party's random draw per package for ``random``."""


async def _random_efficient(
    mpc: Any, sizes: tuple[int, ...], delegations: int, own: SideInputs | None, chunk: int
) -> Opened:
    packages = math.prod(sizes)
    secint = mpc.SecInt(RANDOM_BITS + len(mpc.parties).bit_length() + 3)
    pairs = packages * packages
    ok = _product(
        _shared(mpc, secint, None if own is None else own.package_ok, packages, delegations)
    )
    # An admissible package exists exactly when an efficient one does: opened first (it is
    # opened anyway), and the pairs are shared only when there is something to draw.
    if not await mpc.output(mpc.np_sum(ok) >= 1):
        return Opened(package=None, exists=False)
    at_least = _shared(mpc, secint, None if own is None else own.at_least, pairs, delegations)
    equal = _shared(mpc, secint, None if own is None else own.equal, pairs, delegations)
    # Dominators of x: sum over y of prod_d at_least_d[x, y] - prod_d equal_d[x, y], where
    # each side folded its own acceptance of y in: the last product of each row and the
    # sum over y are one inner product, reshared once per package (a batched matmul).
    dominators = _row_products(at_least, packages) - _row_products(equal, packages)
    # 0 <= dominators < packages: a zero test of that many bits, not of the type's.
    alone = mpc.np_sgn(dominators, l=packages.bit_length() + 1, EQ=True)
    efficient = ok * alone
    draws = []
    for party in range(len(mpc.parties)):
        mine = _draws(packages) if party == mpc.pid else np.zeros(packages, np.int64)
        draws.append(mpc.input(secint.array(mine), senders=party))
    total = draws[0]
    for draw in draws[1:]:
        total = total + draw
    index, _top = await _argmax(mpc, efficient * (total + 1), packages, chunk)
    flat = int(await mpc.output(index))
    return Opened(package=tuple(int(o) for o in np.unravel_index(flat, sizes)), exists=True)


def _row_products(vectors: list[Any], rows: int) -> Any:
    """Per row ``x`` of the ``rows x rows`` matrices, ``sum_y prod_d vectors_d[x, y]``."""
    first = _product(vectors[:-1]).reshape((rows, 1, rows))
    return (first @ vectors[-1].reshape((rows, rows, 1))).reshape((rows,))


def _draws(length: int) -> Any:
    """``length`` integers drawn uniformly from ``[0, 2^RANDOM_BITS)`` by the OS's generator."""
    return np.array([secrets.randbits(RANDOM_BITS) for _ in range(length)], dtype=np.int64)


async def evaluate(
    mpc: Any,
    finding: Finding,
    sizes: tuple[int, ...],
    delegations: int,
    own: SideInputs | None,
    scale: int,
    components: tuple[tuple[int, ...], ...] = (),
    chunk: int = 8192,
) -> Opened:
    """Compute one finding among the running parties and open it.

    Parameters
    ----------
    mpc:
        The started MPyC runtime.
    finding:
        What to compute.
    sizes:
        Number of options of each issue (public).
    delegations:
        Number of delegations; parties ``0 .. delegations - 1``.
    own:
        This party's private vectors, ``None`` for a helper.
    scale:
        The fixed-point unit of gains (public).
    components:
        The issues grouped by the links of conditions (public; ``redlines`` only).
    chunk:
        Packages compared at a time by ``nash`` (bounds memory).
    """
    if finding is Finding.OVERLAP:
        length = sum(sizes)
        secint = mpc.SecInt(max(8, length.bit_length() + 2))
        option_ok = None if own is None else own.option_ok
        both = _product(_shared(mpc, secint, option_ok, length, delegations))
        counts = both @ _selection(list(sizes))
        # One vectorised comparison for every issue, its bits opened together: the same
        # bits as one at a time, in one round trip instead of one per issue.
        bits = await mpc.output(counts >= 1)
        return Opened(overlap=tuple(bool(b) for b in bits))
    if finding is Finding.REDLINES:
        blocks = [math.prod(sizes[i] for i in c) for c in components]
        length = sum(blocks)
        secint = mpc.SecInt(max(8, length.bit_length() + 2))
        tables = None if own is None else own.component_ok
        counts = _product(_shared(mpc, secint, tables, length, delegations)) @ _selection(blocks)
        satisfied = mpc.np_sum(counts >= 1)
        return Opened(exists=bool(await mpc.output(satisfied >= len(blocks))))
    packages = math.prod(sizes)
    package_ok = None if own is None else own.package_ok
    if finding is Finding.RANDOM:
        return await _random_efficient(mpc, sizes, delegations, own, chunk)
    if finding is Finding.EXISTS:
        secint = mpc.SecInt(max(8, packages.bit_length() + 2))
        admissible = _product(_shared(mpc, secint, package_ok, packages, delegations))
        found = await mpc.output(mpc.np_sum(admissible) >= 1)
        return Opened(exists=bool(found))
    secint = mpc.SecInt(key_bits(delegations, scale))
    gain = None if own is None else own.gain
    admissible = _product(_shared(mpc, secint, package_ok, packages, delegations))
    # The bit "some package is admissible" is opened first (it is opened anyway): with
    # none, no gain is shared and nothing is compared.
    if not await mpc.output(mpc.np_sum(admissible) >= 1):
        return Opened(package=None, exists=False)
    gains = _shared(mpc, secint, gain, packages, delegations)
    total = gains[0]
    for g in gains[1:]:
        total = total + g
    keys = admissible * (_product(gains) * (delegations * scale + 1) + total + 1)
    index, _top = await _argmax(mpc, keys, packages, chunk)
    flat = int(await mpc.output(index))
    return Opened(package=tuple(int(o) for o in np.unravel_index(flat, sizes)), exists=True)
