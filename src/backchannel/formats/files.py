"""The one place where Backchannel reads files from disk and writes them back.

Reading is two steps, used by every reader in :mod:`backchannel.formats`:

* :func:`read_bytes` opens a file and reads it whole, refusing one larger than
  :data:`MAX_FILE_BYTES` and anything that is not a regular file (a FIFO, a device or a
  socket would block the reader or never end);
* :func:`decode_text` turns those bytes into text: UTF-8 (a leading byte-order mark is
  dropped) with no control character other than tab, line feed and carriage return.
  A file that is not text gets a located message (line and column), never a parser's
  traceback.

The bound on the size of what is read is here, so that every format gets it at once;
the bounds on what YAML and JSON text may hold (nesting depth, alias expansion, long
numbers) are in :mod:`backchannel.formats.documents`, the one reader of both.

Writing has one function, :func:`write_files_atomically` (and :func:`write_atomically`
for one file): each file is written under a temporary name in its own folder, synced
to disk, renamed into place and its folder synced, so that a reader never sees a
half-written file; when one file of several cannot be written, none of them is left.
An existing file is replaced only when the caller says so (``replace``, the CLI's
``--force``), and never when it is not a regular file (a folder, a device, a FIFO).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from backchannel.errors import CaseFileError, InputError
from backchannel.messages import Message, t_, verbatim

__all__ = [
    "MAX_FILE_BYTES",
    "decode_text",
    "read_bytes",
    "read_text",
    "write_atomically",
    "write_files_atomically",
]

MAX_FILE_BYTES = 20 * 1024 * 1024
"""The largest file any reader accepts (20 MiB)."""

BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Characters no text format here allows: C0 controls but tab, LF and CR; DEL; C1."""

_TEXT_HINT = t_("save it as plain UTF-8 text")


def _unreadable(source: str, reason: Message, hint: Message | None = None) -> CaseFileError:
    return CaseFileError(source, (), t_("cannot read the file: {reason}", reason=reason), hint=hint)


def _special(mode: int) -> Message | None:
    """What a file that is not a regular file is, in words (``None`` for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, t_("it is a folder")),
        (stat.S_ISFIFO, t_("it is a FIFO (named pipe)")),
        (stat.S_ISSOCK, t_("it is a socket")),
        (stat.S_ISCHR, t_("it is a device")),
        (stat.S_ISBLK, t_("it is a device")),
    )
    return next((name for test, name in kinds if test(mode)), t_("it is not a regular file"))


def _too_large(source: str) -> CaseFileError:
    return _unreadable(
        source,
        t_("it is larger than {limit} bytes", limit=f"{MAX_FILE_BYTES:,}"),
        t_("give a smaller file"),
    )


def read_bytes(path: Path) -> bytes:
    """The content of a regular file, read whole.

    The file is opened without blocking, so that a FIFO given as the path is refused
    at once rather than waited on.

    Raises
    ------
    CaseFileError
        The file is missing, is a folder, a FIFO, a device or a socket, cannot be read,
        or is larger than :data:`MAX_FILE_BYTES`.
    """
    source = str(path)
    try:
        mode = os.stat(path).st_mode
        kind = _special(mode)
        if kind is not None:
            hint = t_("give a file") if stat.S_ISDIR(mode) else t_("give a regular file")
            raise _unreadable(source, kind, hint)
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(handle, "rb") as file:
            facts = os.fstat(file.fileno())  # the file opened, not the one looked at
            if _special(facts.st_mode) is not None:
                raise _unreadable(source, t_("it is not a regular file"), t_("give a regular file"))
            if facts.st_size > MAX_FILE_BYTES:
                raise _too_large(source)
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _unreadable(source, t_("no such file"), t_("check the path")) from None
    except OSError as error:
        raise _unreadable(source, verbatim(error.strerror or type(error).__name__)) from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(source)
    return data


def _column(data: bytes, start: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``start``, valid UTF-8 before it."""
    line_start = data.rfind(b"\n", 0, start) + 1
    before = data[line_start:start].decode("utf-8", errors="replace")
    return data.count(b"\n", 0, start) + 1, len(before) + 1


def decode_text(data: bytes, source: str, *, encoding: str = "utf-8") -> str:
    """The text of a file's bytes, without a byte-order mark or control characters.

    Parameters
    ----------
    data:
        The bytes, as :func:`read_bytes` returns them.
    source:
        The file name, for error messages.
    encoding:
        UTF-8 unless the file itself names another (an XML declaration).

    Raises
    ------
    CaseFileError
        Located at the first offending byte (line, and column in the message): bytes
        that are not text in the encoding, a NUL or another control character.
    """
    body = data.removeprefix(BOM)
    try:
        text = body.decode(encoding)
    except LookupError:
        raise CaseFileError(
            source,
            (),
            t_("unknown text encoding {encoding}", encoding=repr(encoding)),
            hint=t_("save the file as UTF-8"),
        ) from None
    except UnicodeDecodeError as error:
        line, column = _column(body, error.start)
        name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        raise CaseFileError(
            source,
            (),
            t_(
                "not {encoding} text: byte {byte} at column {column}",
                encoding=name,
                byte=f"0x{body[error.start]:02x}",
                column=column,
            ),
            hint=t_("save the file as UTF-8"),
            line=line,
        ) from None
    found = _CONTROL.search(text)
    if found is not None:
        at = found.start()
        code = ord(found.group())
        name = " (NUL)" if code == 0 else ""
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise CaseFileError(
            source,
            (),
            t_(
                "not a text file: control character {code} at column {column}",
                code=f"U+{code:04X}{name}",
                column=column,
            ),
            hint=_TEXT_HINT,
            line=line,
        )
    return text


def read_text(path: Path) -> str:
    """:func:`read_bytes` then :func:`decode_text`."""
    return decode_text(read_bytes(path), str(path))


def _unwritable(path: Path, error: OSError) -> InputError:
    reason = error.strerror or type(error).__name__
    return InputError(t_("{path}: cannot write the file ({reason})", path=str(path), reason=reason))


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a file system that cannot sync folders is fine."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temporary file beside ``path`` and sync it; return its path."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _check_target(path: Path, *, replace: bool) -> None:
    """Refuse to write ``path`` when something is there that may not be replaced.

    Parameters
    ----------
    path:
        A file about to be written.
    replace:
        Whether an existing regular file may be replaced.

    Raises
    ------
    InputError
        ``path`` exists and ``replace`` is not set, or it exists and is not a regular
        file (a folder, a device, a FIFO), which is never replaced.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise _unwritable(path, error) from None
    kind = _special(mode)
    if kind is not None:
        raise InputError(
            t_("{path}: {kind}, not a file", path=str(path), kind=kind),
            hint=t_("give a new file name"),
        )
    if not replace:
        raise InputError(
            t_("{path}: the file exists", path=str(path)),
            hint=t_("add --force to replace it, or give a new name"),
        )


def write_files_atomically(files: Mapping[Path, bytes | str], *, replace: bool = False) -> None:
    """Write several files so that each is whole, and all of them are there or none.

    Every file is first written and synced under a temporary name in its own folder;
    only when all are written are they renamed into place, then their folders are
    synced. If any step fails, the temporary files and the files already renamed in
    this call are removed (so, for several files, this is meant for new files, as in
    an export to an empty folder). Text is written as UTF-8.

    Parameters
    ----------
    files:
        Path and content of each file; the folders must exist.
    replace:
        Whether existing files may be replaced (see :func:`_check_target`); nothing is
        written when one may not.

    Raises
    ------
    InputError
        A file exists and may not be replaced, or cannot be written (named in the
        message).
    """
    for path in files:
        _check_target(path, replace=replace)
    staged: dict[Path, Path] = {}
    placed: list[Path] = []
    current = Path()
    try:
        for path, content in files.items():
            current = path
            data = content.encode("utf-8") if isinstance(content, str) else content
            staged[path] = _stage(path, data)
        for path, temp in staged.items():
            current = path
            os.replace(temp, path)
            placed.append(path)
    except BaseException as error:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
        for path in placed:
            path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _unwritable(current, error) from None
        raise
    for folder in dict.fromkeys(path.parent for path in files):
        _sync_folder(folder)


def write_atomically(path: Path, content: bytes | str, *, replace: bool = False) -> None:
    """Write ``path`` whole or not at all (see :func:`write_files_atomically`)."""
    write_files_atomically({path: content}, replace=replace)
