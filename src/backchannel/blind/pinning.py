"""What a node knows of its peers before any connection: their certificates, pinned.

Kept apart from :mod:`backchannel.blind.tls` (which only the party process imports, with
MPyC) so that checking a session document needs no MPyC.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass

from backchannel.errors import AnalysisError


class TransportFailure(AnalysisError):
    """The parties could not be connected, or one of them dropped out: nothing is opened."""


@dataclass(frozen=True)
class Peer:
    """One party as the session lists it."""

    index: int
    host: str
    port: int
    certificate: str
    """Its certificate, PEM."""


def der_fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate's DER encoding, lowercase hex."""
    return hashlib.sha256(der).hexdigest()


def pem_fingerprint(pem: str) -> str:
    """SHA-256 of a PEM certificate's DER encoding, lowercase hex."""
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(pem))
