"""A reference GMCR implementation written for clarity, straight from the definitions.

Plain Python over explicit sets; only for small conflicts. It shares no code with the
engine except the :class:`CompiledConflict` input. Definitions: Fang, Hipel & Kilgour
1993 (Nash, GMR, SMR, SEQ, SIM, L_h, NM), Kilgour, Hipel & Fang 1987 (n-DM sanctions as
legal sequences: no DM moves twice in a row), Inohara & Hipel 2008 (coalitions move as
one; an improvement needs every member to gain), and two ways of reading unranked
pairs: an explicit completion (rows ``(t, s)``: "t better than s"; every other unranked
pair a tie), or the engine's ``robust`` and ``tie`` readings (``mode``).
"""

from __future__ import annotations

import itertools
from functools import cache

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility


class Reference:
    """Explicit-set stability analysis of one conflict."""

    def __init__(
        self,
        conflict: CompiledConflict,
        mode: str = "given",
        focal: int = -1,
        completion: tuple | None = None,
    ) -> None:
        self.c = conflict
        self.codes = [int(code) for code in conflict.states]
        self.n = len(self.codes)
        n_dms = len(conflict.dm_ids)
        grouped = [tuple(sorted(g)) for g in conflict.coalitions if g]
        inside = {dm for g in grouped for dm in g}
        self.groups = sorted(grouped + [(dm,) for dm in range(n_dms) if dm not in inside])
        self.names = ["+".join(conflict.dm_ids[dm] for dm in g) for g in self.groups]
        self.mode, self.focal = mode, focal
        self.completion = completion
        self._moves = [
            [self._compute_moves(m, s) for s in range(self.n)] for m in range(len(self.groups))
        ]

    # -- moves and preferences -------------------------------------------------------
    def _blocked(self, m: int, s: int) -> bool:
        for dm in self.groups[m]:
            masks = self.c.misperceived
            if dm < len(masks) and masks[dm] is not None and bool(masks[dm][s]):
                return True
        return False

    def _compute_moves(self, m: int, s: int) -> frozenset[int]:
        options = [o for dm in self.groups[m] for o in self.c.dm_options[dm]]
        mask = sum(1 << o for o in options)
        if self._blocked(m, s):
            return frozenset()
        result = set()
        for t in range(self.n):
            diff = self.codes[s] ^ self.codes[t]
            if t == s or diff & ~mask or self._blocked(m, t):
                continue
            legal = True
            for o in options:
                if diff >> o & 1:
                    now_y = self.codes[t] >> o & 1
                    kind = self.c.reversibility[o]
                    if kind is Reversibility.FORWARD_ONLY and not now_y:
                        legal = False
                    if kind is Reversibility.BACKWARD_ONLY and now_y:
                        legal = False
            if legal:
                result.add(t)
        return frozenset(result)

    def moves(self, m: int, s: int) -> frozenset[int]:
        """R_m(s)."""
        return self._moves[m][s]

    def _unknown(self, dm: int, a: int, b: int) -> bool:
        if self.mode == "given" and self.completion is None:
            return False
        if dm >= len(self.c.unranked) or self.c.unranked[dm] is None:
            return False
        return any({int(x), int(y)} == {a, b} for x, y in self.c.unranked[dm])

    def better(self, m: int, t: int, s: int) -> bool:
        """Does mover m strictly prefer t to s (every member gains)?"""
        for dm in self.groups[m]:
            if self._unknown(dm, t, s) and self.completion is not None:
                rows = self.completion[dm] if dm < len(self.completion) else None
                gain = rows is not None and any((int(x), int(y)) == (t, s) for x, y in rows)
            elif self._unknown(dm, t, s):
                gain = self.mode == "robust" and m == self.focal
            else:
                gain = self.c.payoffs[dm][t] > self.c.payoffs[dm][s]
            if not gain:
                return False
        return True

    def improvements(self, m: int, s: int) -> set[int]:
        """R+_m(s)."""
        return {t for t in self.moves(m, s) if self.better(m, t, s)}

    def others_reach(self, i: int, s: int, improving: bool) -> set[int]:
        """R_{N-i}(s) or R+_{N-i}(s): legal sequences of length >= 1, no mover twice in a row."""
        step = self.improvements if improving else self.moves
        seen: set[tuple[int, int]] = set()
        todo = [(t, j) for j in range(len(self.groups)) if j != i for t in step(j, s)]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            t, last = node
            for k in range(len(self.groups)):
                if k not in (i, last):
                    todo.extend((u, k) for u in step(k, t))
        return {t for t, _ in seen}

    # -- concepts ------------------------------------------------------------------
    def nash(self, i: int, s: int) -> bool:
        return not self.improvements(i, s)

    def gmr(self, i: int, s: int) -> bool:
        return all(
            any(not self.better(i, s2, s) for s2 in self.others_reach(i, s1, False))
            for s1 in self.improvements(i, s)
        )

    def smr(self, i: int, s: int) -> bool:
        return all(
            any(
                not self.better(i, s2, s)
                and all(not self.better(i, s3, s) for s3 in self.moves(i, s2))
                for s2 in self.others_reach(i, s1, False)
            )
            for s1 in self.improvements(i, s)
        )

    def seq(self, i: int, s: int) -> bool:
        return all(self._seq_deterred(i, s, s1) for s1 in self.improvements(i, s))

    def _seq_deterred(self, i: int, s: int, s1: int) -> bool:
        return any(not self.better(i, s2, s) for s2 in self.others_reach(i, s1, True))

    def _sim_deterred(self, i: int, s: int, s1: int) -> bool:
        others = [j for j in range(len(self.groups)) if j != i]
        choices = [[s, *sorted(self.improvements(j, s))] for j in others]
        for combo in itertools.product(*choices):
            code = self.codes[s1]
            for j, t in zip(others, combo, strict=True):
                mask = sum(1 << o for dm in self.groups[j] for o in self.c.dm_options[dm])
                code = (code & ~mask) | (self.codes[t] & mask)
            if code in self.codes and not self.better(i, self.codes.index(code), s):
                return True
        return False

    def sim(self, i: int, s: int) -> bool:
        return all(self._sim_deterred(i, s, s1) for s1 in self.improvements(i, s))

    def seqsim(self, i: int, s: int) -> bool:
        return all(
            self._seq_deterred(i, s, s1) or self._sim_deterred(i, s, s1)
            for s1 in self.improvements(i, s)
        )

    def anticipated(self, i: int, s: int, h: int) -> int:
        """G_h(i, s) for two movers, ties broken against the other mover, then by index."""

        @cache
        def g(mover: int, state: int, depth: int) -> tuple[int, bool]:
            if depth == 0:
                return state, False
            other = 1 - mover
            pay = self.c.payoffs
            best = None
            for t in sorted(self.moves(mover, state)):
                outcome = g(other, t, depth - 1)[0]
                if pay[mover][outcome] > pay[mover][state]:
                    rank = (-pay[mover][outcome], pay[other][outcome], t)
                    if best is None or rank < best[0]:
                        best = (rank, outcome)
            return (state, False) if best is None else (best[1], True)

        self._g = g
        return g(i, s, h)[0]

    def limited(self, i: int, s: int, h: int) -> bool:
        self.anticipated(i, s, h)
        return not self._g(i, s, h)[1]

    def stable(self, concept: str, i: int, h: int = 2) -> list[int]:
        """Stable state indices of mover i under concept."""
        if concept == "limited":
            return [s for s in range(self.n) if self.limited(i, s, h)]
        if concept == "nonmyopic":
            return self.nonmyopic_stable(i)
        check = getattr(self, concept)
        return [s for s in range(self.n) if check(i, s)]

    def nonmyopic_stable(self, i: int) -> list[int]:
        """NM: stable at every horizon once the anticipations G_h repeat periodically."""
        seen: dict[tuple[tuple[int, ...], ...], int] = {}
        h = 0
        while True:
            now = tuple(tuple(self.anticipated(m, s, h) for s in range(self.n)) for m in (0, 1))
            if now in seen:
                period = range(seen[now] + 1, h + 1)
                return [s for s in range(self.n) if all(self.limited(i, s, k) for k in period)]
            seen[now] = h
            h += 1
