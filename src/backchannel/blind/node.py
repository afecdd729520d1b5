"""One party of a blind evaluation, as its own OS process.

``python -m backchannel.blind.node JOB`` reads the job (a JSON file: this party's index,
every party's loopback port, the finding, the public agenda sizes and, for a delegation,
the path of its own side of the case), derives its private vectors from its side alone,
runs the MPyC computation with the other parties and writes what was opened, with its
own measurements (seconds, bytes sent to each peer, peak memory), to the job's
``result`` path.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from backchannel.blind.local import component_inputs, side_inputs
from backchannel.blind.plan import Finding
from backchannel.blind.protocol import Opened, evaluate
from backchannel.formats.cases import load_problem


def _runtime(index: int, ports: list[int]) -> Any:
    """MPyC's runtime for this party (MPyC reads its options from ``sys.argv`` on import).

    ``--mix32-64bit`` makes MPyC send arrays of shares as fixed-length field elements
    rather than pickles, so every message's size is independent of the values shared.
    """
    argv = [sys.argv[0], "--no-log", "--mix32-64bit"]
    for j, port in enumerate(ports):
        argv += ["-P", f":{port}" if j == index else f"127.0.0.1:{port}"]
    sys.argv = argv
    from mpyc.runtime import mpc

    return mpc


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run this party's part of a job; the opened finding and this party's measurements."""
    started = time.perf_counter()
    finding = Finding(job["finding"])
    sizes = tuple(int(s) for s in job["sizes"])
    components = tuple(tuple(int(i) for i in c) for c in job["components"])
    own = None
    if job.get("side") is not None:
        _, problem = load_problem(Path(job["side"]))
        if finding is Finding.REDLINES:
            own = component_inputs(problem, components)
        else:
            packages = finding is not Finding.OVERLAP
            pairs = finding is Finding.RANDOM
            own = side_inputs(problem, packages=packages, scale=job["scale"], pairs=pairs)
    mpc = _runtime(int(job["index"]), [int(p) for p in job["ports"]])

    async def session() -> tuple[Opened, dict[str, int]]:
        await mpc.start()
        delegations = int(job["delegations"])
        opened = await evaluate(
            mpc, finding, sizes, delegations, own, job["scale"], components, int(job["chunk"])
        )
        sent = {
            str(peer.pid): int(peer.protocol.nbytes_sent)
            for peer in mpc.parties
            if peer.pid != mpc.pid
        }
        await mpc.shutdown()
        return opened, sent

    opened, sent = mpc.run(session())
    return {
        "overlap": None if opened.overlap is None else list(opened.overlap),
        "exists": opened.exists,
        "package": None if opened.package is None else list(opened.package),
        "seconds": time.perf_counter() - started,
        "bytes_sent": sent,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main() -> None:
    """Entry point of the node process."""
    job_path = Path(sys.argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    result = run_job(job)
    Path(job["result"]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
