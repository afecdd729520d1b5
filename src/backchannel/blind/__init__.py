"""Blind mode: red-line findings computed by secure multi-party computation (MPyC).

Each delegation's node derives its own private inputs from its own side of the case
(:mod:`~backchannel.blind.local`), the nodes secret-share them and compute one finding
(:mod:`~backchannel.blind.protocol`), and only that finding is opened. One OS process
runs each party (:mod:`~backchannel.blind.node`), connected to the others over TLS with
every certificate pinned to its index (:mod:`~backchannel.blind.tls`).
:mod:`~backchannel.blind.session` runs one node's party from the coordinating server's
session document; :mod:`~backchannel.blind.run` starts every party on loopback and
collects the opened finding. The threat model is in ``docs/explanation/blind-mode.md``.
"""

import os

# MPyC runs on uvloop whenever it is installed (the web server's dependency since it serves
# on it). Under uvloop the parties' pinned-TLS start-up (blind.tls) stalls: a five-node round
# that takes 6 s took 36 s and then failed, a party seeing another drop out. Each party keeps
# asyncio's own loop; MPyC reads this when it is first imported, in any process that does.
os.environ.setdefault("MPYC_NOUVLOOP", "1")
