"""A blind node's identity and its side's position, kept in the node's own folder.

The folder (mode 0700, refused when others may read it) holds:

* ``node.key``: the node's private key (ECDSA P-256, PEM, mode 0600, never overwritten);
* ``node.crt``: its self-signed certificate, which the delegation gives the facilitator at
  invitation time with its SHA-256 fingerprint; the session document lists it, and every
  other party trusts exactly that certificate for this node's index (each self-signed
  certificate is its own trust anchor);
* ``position.sealed``: the side's position (a case file holding the agenda and this one
  delegation) encrypted with AES-256-GCM under a key derived from a passphrase by scrypt
  (``n = 2^15, r = 8, p = 1``, a fresh 16-byte salt and 12-byte nonce each time it is
  written, the file's format as associated data). Nothing of the position is ever written
  in the clear: it is decrypted in memory and handed to the party process on a pipe.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.x509.oid import NameOID

from backchannel.errors import InputError
from backchannel.messages import t_
from backchannel.storage.vault import KeyFileError

KEY_FILE = "node.key"
CERT_FILE = "node.crt"
POSITION_FILE = "position.sealed"
POSITION_FORMAT = "backchannel-node-position/1"
CERT_DAYS = 3650
"""Validity of a node's certificate: pinning, not expiry, is what the parties check."""

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1


@dataclass(frozen=True)
class NodeIdentity:
    """Where a node's key and certificate are, the certificate itself and its fingerprint."""

    folder: Path
    key_path: Path
    cert_path: Path
    certificate: str
    """The certificate, PEM."""
    fingerprint: str
    """SHA-256 of the certificate's DER encoding, lowercase hex."""


def fingerprint(certificate_pem: str) -> str:
    """SHA-256 of a PEM certificate's DER encoding, lowercase hex."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(certificate_pem)).hexdigest()


def _open_to_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise InputError(
            t_("{folder} is not a node folder", folder=str(folder)),
            hint=t_(
                "create one with `backchannel node init --folder {folder}`", folder=str(folder)
            ),
        )
    if _open_to_others(folder):
        raise KeyFileError(
            t_("node folder {folder} is open to other users", folder=str(folder)),
            hint=t_("run `chmod 700 {folder}`", folder=str(folder)),
        )


def init_identity(folder: Path, name: str = "Backchannel blind node") -> NodeIdentity:
    """Create a node's private key and self-signed certificate in ``folder``.

    The folder is created (mode 0700) when missing; an existing one must be open to no
    other user. An existing key is never replaced.

    Raises
    ------
    KeyFileError
        The folder is open to other users, or it already holds a key.
    InputError
        The folder cannot be created or written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise InputError(
            t_("cannot create node folder {folder}: {reason}", folder=str(folder), reason=error)
        ) from None
    _check_folder(folder)
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if key_path.exists() or key_path.is_symlink():
        raise KeyFileError(
            t_("{path} already exists", path=str(key_path)),
            hint=t_("keep it: the facilitator pinned its certificate; `node show` prints it"),
        )
    key = ec.generate_private_key(ec.SECP256R1())
    # A name of its own: a party trusts several self-signed certificates at once, and
    # OpenSSL finds the issuer of a certificate among them by its name.
    unique = f"{name} {os.urandom(8).hex()}"
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unique)])
    public = key.public_key()
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem_key)
            out.flush()
            os.fsync(out.fileno())
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    except OSError as error:
        raise InputError(
            t_("cannot write to node folder {folder}: {reason}", folder=str(folder), reason=error)
        ) from None
    return load_identity(folder)


def load_identity(folder: Path) -> NodeIdentity:
    """The identity in ``folder``; refused when the folder or key is open to other users.

    Raises
    ------
    InputError, KeyFileError
        No such folder or key, an unsafe mode, or a certificate that is not one.
    """
    folder = Path(folder)
    _check_folder(folder)
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if not key_path.is_file() or not cert_path.is_file():
        raise InputError(
            t_("{folder} holds no node key and certificate", folder=str(folder)),
            hint=t_(
                "create them with `backchannel node init --folder {folder}`", folder=str(folder)
            ),
        )
    if _open_to_others(key_path):
        raise KeyFileError(
            t_("node key {path} is readable by other users", path=str(key_path)),
            hint=t_("run `chmod 600 {path}`", path=str(key_path)),
        )
    try:
        pem = cert_path.read_text(encoding="ascii")
        x509.load_pem_x509_certificate(pem.encode("ascii"))
        digest = fingerprint(pem)
    except (ValueError, UnicodeDecodeError):
        raise InputError(t_("{path} is not a certificate", path=str(cert_path))) from None
    return NodeIdentity(folder, key_path, cert_path, pem, digest)


def _derive(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def seal_position(folder: Path, position: bytes, passphrase: str) -> Path:
    """Encrypt ``position`` into the folder's position file (replacing the previous one).

    The file is written under a temporary name in the same folder (ciphertext only) and
    renamed over the old one, so a crash leaves the old position or the new one.

    Raises
    ------
    InputError
        An empty passphrase, or the folder cannot be written.
    """
    folder = Path(folder)
    _check_folder(folder)
    if not passphrase:
        raise InputError(
            t_("the passphrase of the node's position is empty"),
            hint=t_("set BACKCHANNEL_NODE_PASSPHRASE or type one when asked"),
        )
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_derive(passphrase, salt)).encrypt(
        nonce, position, POSITION_FORMAT.encode("ascii")
    )
    doc = {
        "format": POSITION_FORMAT,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "salt": base64.b64encode(salt).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
    }
    target = folder / POSITION_FILE
    temporary = folder / f".{POSITION_FILE}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            json.dump(doc, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InputError(
            t_("cannot write to node folder {folder}: {reason}", folder=str(folder), reason=error)
        ) from None
    return target


def has_position(folder: Path) -> bool:
    """Whether the folder holds a sealed position (a helper's folder holds none)."""
    return (Path(folder) / POSITION_FILE).is_file()


def open_position(folder: Path, passphrase: str) -> bytes:
    """The position sealed in the folder, decrypted in memory.

    Raises
    ------
    InputError
        No position, a damaged file, or a wrong passphrase.
    """
    folder = Path(folder)
    _check_folder(folder)
    path = folder / POSITION_FILE
    if not path.is_file():
        raise InputError(
            t_("{folder} holds no position", folder=str(folder)),
            hint=t_(
                "store one with `backchannel node position --folder {folder} --side FILE`",
                folder=str(folder),
            ),
        )
    try:
        doc = json.loads(path.read_text(encoding="ascii"))
        if doc["format"] != POSITION_FORMAT or doc["kdf"]["name"] != "scrypt":
            raise ValueError(doc["format"])
        salt = base64.b64decode(doc["salt"], validate=True)
        nonce = base64.b64decode(doc["nonce"], validate=True)
        sealed = base64.b64decode(doc["ciphertext"], validate=True)
        kdf = Scrypt(salt=salt, length=32, n=doc["kdf"]["n"], r=doc["kdf"]["r"], p=doc["kdf"]["p"])
        key = kdf.derive(passphrase.encode("utf-8"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InputError(t_("{path} is not a sealed position", path=str(path))) from None
    try:
        return AESGCM(key).decrypt(nonce, sealed, POSITION_FORMAT.encode("ascii"))
    except InvalidTag:
        raise InputError(
            t_("wrong passphrase for the position in {folder}", folder=str(folder)),
            hint=t_("give the passphrase used by `backchannel node position`"),
        ) from None
