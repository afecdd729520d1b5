"""Signed readout files: the content's own bytes, then one signature line.

A signed file is the readout's content, byte for byte, followed by **one trailer line**
that the file's own format treats as a comment, so the file shows and prints as before:

* HTML: ``<!-- backchannel-signature v1 ed25519:<key> <signature> -->`` and a newline;
* PDF: ``%backchannel-signature v1 ed25519:<key> <signature>`` and a newline, after
  the ``%%EOF`` that ends the PDF (readers ignore what follows it).

``<key>`` and ``<signature>`` are standard base64 (the raw 32-byte Ed25519 public key; the
64-byte signature). The signature is Ed25519 over ``backchannel-readout-v1``, a newline,
the format (``html`` or ``pdf``), a newline, then the content: the format is bound, and
no other message the server signs (audit checkpoints are JSON objects) starts that way.

To verify, the last line is cut off (the file must end with a newline and its last line
must match the trailer exactly; anything else is refused), the signature checked against
the key the verifier trusts (not merely the key the line names), and the content's
fingerprint computed: the first 20 hex digits of its SHA-256, in groups of four.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backchannel.messages import Message, t_
from backchannel.storage.checkpoints import PUBLIC_PREFIX, Signer, public_text

DOMAIN = b"backchannel-readout-v1\n"
FORMATS = ("html", "pdf")
_B64 = rb"[A-Za-z0-9+/]+={0,2}"
TRAILERS = {
    "html": re.compile(
        rb"<!-- backchannel-signature v1 ed25519:(" + _B64 + rb") (" + _B64 + rb") -->\n"
    ),
    "pdf": re.compile(rb"%backchannel-signature v1 ed25519:(" + _B64 + rb") (" + _B64 + rb")\n"),
}
_WRAP = {"html": (b"<!-- ", b" -->\n"), "pdf": (b"%", b"\n")}


def message(kind: str, content: bytes) -> bytes:
    """The bytes the signature covers."""
    return DOMAIN + kind.encode("ascii") + b"\n" + content


def fingerprint(content: bytes) -> str:
    """The short fingerprint of a readout's content: ``xxxx-xxxx-xxxx-xxxx-xxxx``."""
    digest = hashlib.sha256(content).hexdigest()[:20]
    return "-".join(digest[k : k + 4] for k in range(0, 20, 4))


def sign(signer: Signer, kind: str, content: bytes) -> bytes:
    """``content`` with its signature line appended (``kind``: ``html`` or ``pdf``)."""
    signature = signer.private.sign(message(kind, content))
    key = base64.b64encode(signer.public)
    before, after = _WRAP[kind]
    line = (
        before
        + b"backchannel-signature v1 ed25519:"
        + key
        + b" "
        + base64.b64encode(signature)
        + after
    )
    return content + line


@dataclass(frozen=True)
class Checked:
    """What :func:`verify` found: ``ok`` only when the trusted key signed exactly this
    content; ``problem`` says why not."""

    ok: bool
    kind: str | None = None
    fingerprint: str | None = None
    signed_by: str | None = None
    problem: Message | None = None


def split(data: bytes) -> tuple[str, bytes, bytes, bytes] | None:
    """``(kind, content, key, signature)`` of a signed file, or None when its last line is
    not a signature line."""
    if not data.endswith(b"\n"):
        return None
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    line = data[start:]
    for kind, pattern in TRAILERS.items():
        found = pattern.fullmatch(line)
        if found is not None:
            try:
                key = base64.b64decode(found.group(1), validate=True)
                signature = base64.b64decode(found.group(2), validate=True)
            except (binascii.Error, ValueError):
                return None
            return kind, data[:start], key, signature
    return None


def parse_public(text: str) -> bytes | None:
    """The raw key of ``ed25519:<base64>`` (None when it is not one)."""
    if not text.startswith(PUBLIC_PREFIX):
        return None
    try:
        raw = base64.b64decode(text[len(PUBLIC_PREFIX) :].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def verify(data: bytes, trusted: bytes) -> Checked:
    """Check a signed readout file against the trusted public key (32 raw bytes)."""
    parts = split(data)
    if parts is None:
        return Checked(False, problem=t_("the file does not end with a readout signature line"))
    kind, content, key, signature = parts
    named = public_text(key) if len(key) == 32 else "an invalid key"
    print_ = fingerprint(content)
    if key != trusted:
        return Checked(
            False,
            kind,
            print_,
            named,
            t_(
                "it is signed by {named}, not by the trusted key {trusted}",
                named=named,
                trusted=public_text(trusted),
            ),
        )
    try:
        Ed25519PublicKey.from_public_bytes(trusted).verify(signature, message(kind, content))
    except (InvalidSignature, ValueError):
        return Checked(False, kind, print_, named, t_("the signature does not match the content"))
    return Checked(True, kind, print_, named)
