"""Benchmark of readouts: producing one for a delegation, in HTML and in PDF.

Builds a dialogue with ``--meetings`` meetings held (each with an agreed record),
``--rounds`` rounds (each evaluated, with findings released to side A) and a negotiating
text of ``--clauses`` clauses, then times what the facilitator's "Issue" does: the
content built from side A's view, rendered (HTML, or HTML laid out as PDF by WeasyPrint),
signed and stored sealed. The draft the facilitator reviews first is timed too. Each
format is issued ``--runs`` times (at most 4: A4 or Letter, English or Russian, so that
every issue is a new readout); the worst and the median wall-clock time and the median
CPU time of this process are reported against the target (a median under 2 s each on a
2-core machine for 12 meetings, 8 rounds and 40 clauses). On a shared machine the
wall-clock time grows with the load average, which is printed; the CPU time does not.

Usage::

    .venv/bin/python benchmarks/readout_bench.py [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from backchannel.config import Settings
from backchannel.model.dialogue import Position, Unacceptable
from backchannel.model.text import Draft
from backchannel.services import (
    accounts,
    dialogues,
    evaluations,
    meetings,
    positions,
    readouts,
    records,
    releases,
    rounds,
    texts,
)
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage.vault import init_key_file

T = TypeVar("T")
TARGET_SECONDS = 2.0
VARIANTS = (("a4", "en"), ("letter", "en"), ("a4", "ru"), ("letter", "ru"))
"""Paper and language of each run: each run issues a readout not issued before."""
PASSWORD = "a long benchmark passphrase"


def build(root: Path, meetings_held: int, rounds_held: int, clauses: int) -> dict[str, object]:
    """The benchmark's dialogue; returns the platform, the actors and the ids."""
    key = root / "keys" / "kek.key"
    init_key_file(key)
    settings = Settings(
        database_url=f"sqlite:///{root / 'bench.db'}", key_file=key, password_hash_memory_kib=64
    )
    p = Platform.open(settings, upgrade=True)
    actors: dict[str, Actor] = {}
    for name in ("facilitator", "a1", "b1"):
        row, _ = accounts.create_user(p, name, name.capitalize(), PASSWORD)
        actors[name] = Actor(row.id, row.username, row.display_name)
    f, a1, b1 = actors["facilitator"], actors["a1"], actors["b1"]
    d = dialogues.create_dialogue(p, f, "Benchmark talks")
    i1 = dialogues.add_issue(p, f, d, "Ceasefire", "ordered", ["none", "partial", "full"])
    i2 = dialogues.add_issue(p, f, d, "Sanctions", "ordered", ["keep", "ease", "lift"])
    side_a = dialogues.add_delegation(p, f, d, "Side A")
    side_b = dialogues.add_delegation(p, f, d, "Side B")
    dialogues.add_member(p, f, d, "a1", "member", delegation_id=side_a, track="expert")
    dialogues.add_member(p, f, d, "b1", "member", delegation_id=side_b, track="expert")
    for number in range(rounds_held):
        rounds.open_round(p, f, d)
        shift = number % 3
        positions.save_position(
            p,
            a1,
            d,
            Position(
                importance={i1: 1, i2: 2},
                ratings={i1: {"full": 100, "partial": 60 - shift}, i2: {"keep": 100}},
                unacceptable=[Unacceptable(issue=i2, option="lift")],
            ),
        )
        positions.save_position(
            p,
            b1,
            d,
            Position(
                importance={i2: 1, i1: 2},
                ratings={i2: {"lift": 100, "ease": 70 + shift}, i1: {"none": 100}},
                unacceptable=[Unacceptable(issue=i1, option="full")],
            ),
        )
        rounds.lock_round(p, f, d)
        evaluation = evaluations.evaluate(p, f, d)
        releases.release(p, f, d, evaluation, side_a, "zone")
        releases.release(p, f, d, evaluation, side_a, "overlap", i1 if number % 2 else i2)
    for number in range(meetings_held):
        plan = meetings.MeetingPlan(
            starts=f"2025-{1 + number % 12:02d}-{1 + number // 12:02d}T10:00",
            zone="Europe/Vienna",
            place="Vienna",
        )
        meeting = meetings.schedule(p, f, d, plan)
        records.write(p, f, d, meeting, f"Meeting {number + 1}: the parties reviewed the text.")
        for member in (a1, b1):
            records.answer(p, member, d, meeting, 1, "confirmed")
    drafts = [
        Draft(body=f"Clause {k + 1}: the parties agree on point {k + 1}.") for k in range(clauses)
    ]
    text = texts.create_text(p, f, d, "Joint statement", drafts)
    return {"platform": p, "actors": actors, "dialogue": d, "side_a": side_a, "text": text}


def timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """``call()``'s result, its wall-clock seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    found = call()
    return found, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clauses", type=int, default=40)
    parser.add_argument(
        "--runs", type=int, default=3, choices=range(1, 5), help="issues per format (1 to 4)"
    )
    parser.add_argument("--quick", action="store_true", help="1 run per format")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        world = build(Path(tmp), args.meetings, args.rounds, args.clauses)
        print(
            f"dialogue: {args.meetings} meetings, {args.rounds} rounds, {args.clauses} clauses "
            f"(built in {time.perf_counter() - start:.1f} s); {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        p = world["platform"]
        assert isinstance(p, Platform)
        f = world["actors"]["facilitator"]  # type: ignore[index]
        d, side_a = str(world["dialogue"]), str(world["side_a"])
        print(f"{'step':<14} {'worst s':>8} {'median s':>9} {'CPU s':>6} {'bytes':>7}  target")
        failed = False
        for form in ("html", "pdf"):
            drafts: list[tuple[float, float]] = []
            issues: list[tuple[float, float]] = []
            size = 0
            for run in range(runs):
                page, language = VARIANTS[run]  # a new readout every run
                draft, wall, cpu = timed(partial(readouts.draft, p, f, d, side_a, language))
                drafts.append((wall, cpu))
                issue = partial(readouts.issue, p, f, d, side_a, language, form, page, draft.basis)
                made, wall, cpu = timed(issue)
                issues.append((wall, cpu))
                size = len(readouts.fetch(p, f, d, made.id).data)
            for step, times in ((f"draft ({form})", drafts), (f"issue {form}", issues)):
                walls = [w for w, _ in times]
                median = statistics.median(walls)
                ok = median < TARGET_SECONDS
                failed |= not ok
                shown = str(size) if step.startswith("issue") else ""
                print(
                    f"{step:<14} {max(walls):>8.2f} {median:>9.2f} "
                    f"{statistics.median(c for _, c in times):>6.2f} {shown:>7}  "
                    f"median < {TARGET_SECONDS:.0f} s {'ok' if ok else 'MISSED'}"
                )
        p.engine.dispose()
    return 1 if failed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
