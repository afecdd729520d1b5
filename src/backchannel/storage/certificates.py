"""A node's TLS certificate, as a delegation or a helper registers it: parsed and checked.

The server only relays certificates between the nodes of a blind dialogue (each node pins
its peers' certificates); it checks that what it relays is one PEM certificate, not a key
or anything else, and computes the fingerprint that the sides compare out of band.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from backchannel.errors import InputError
from backchannel.messages import t_

MAX_PEM = 16_384
"""The longest certificate text accepted (a few kilobytes in practice)."""
BEGIN = "-----BEGIN CERTIFICATE-----"


def checked_certificate(text: str) -> tuple[str, str]:
    """The certificate in canonical PEM and the SHA-256 hex fingerprint of its DER.

    Raises
    ------
    InputError
        Empty or too long, a private key, several certificates, or not a PEM certificate.
    """
    text = text.strip()
    hint = t_(
        "paste the node's certificate file (node.crt), the text from "
        "“-----BEGIN CERTIFICATE-----” to “-----END CERTIFICATE-----”"
    )
    if not text:
        raise InputError(t_("the node's certificate is missing"), hint=hint)
    if len(text) > MAX_PEM:
        raise InputError(
            t_(
                "the certificate is {n} characters long, more than {limit}",
                n=len(text),
                limit=MAX_PEM,
            ),
            hint=hint,
        )
    if "PRIVATE KEY" in text:
        raise InputError(
            t_("this is a private key, not a certificate: never send a private key anywhere"),
            hint=hint,
        )
    if text.count(BEGIN) != 1:
        raise InputError(
            t_("expected exactly one PEM certificate, found {n}", n=text.count(BEGIN)), hint=hint
        )
    try:
        certificate = x509.load_pem_x509_certificate(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InputError(t_("this is not a readable PEM certificate"), hint=hint) from None
    der = certificate.public_bytes(Encoding.DER)
    pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
    return pem, hashlib.sha256(der).hexdigest()
