"""A party runs MPyC on asyncio's own loop, although uvloop is installed (the web server's).

MPyC switches to uvloop whenever it can import it; under uvloop the parties' pinned-TLS
start-up stalled (a five-node round took 36 s instead of 6 s, then failed).
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import asyncio
import backchannel.blind.node  # what a party process imports first
import mpyc.runtime
print(type(asyncio.get_event_loop_policy()).__module__)
"""


def test_a_party_keeps_asyncios_own_loop() -> None:
    import uvloop  # noqa: F401  (installed: otherwise this test would prove nothing)

    found = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert found.stdout.strip().splitlines()[-1] == "asyncio.unix_events", found.stdout
