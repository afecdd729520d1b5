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
