"""Low-level workbook writing rules shared by every writer: safe cell text and atomic saves.

A user's workbook is precious: a crash mid-save must never leave a half-written file behind, and
text that came from data must never turn into a live formula.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

FORMULA_PREFIXES = ("=", "+", "-", "@")


def cell_value(value: Any) -> Any:
    """Python/numpy value -> something openpyxl writes faithfully (NaN and None become blank)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters cannot be stored in a cell
    if isinstance(value, (dt.datetime, dt.date, int)):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return None if value != value else value.to_pydatetime()
    return str(value)


def set_cell(ws, row: int, column: int, value: Any):
    """Write one cell; text that Excel would read as a formula is stored as plain text."""
    cell = ws.cell(row=row, column=column, value=None)
    value = cell_value(value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
    return cell


def title(ws, text: str, note: str) -> None:
    """Title and note rows above a generated table, so every generated sheet says what it is."""
    set_cell(ws, 1, 1, text).font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, note).font = Font(italic=True, color="555555")


class WriteError(OSError):
    """An output that cannot be written, said in terms of the output (never of the temporary file)."""


TEMP_MAX_AGE = 24 * 3600  # seconds: no write takes this long, so an older temporary file is abandoned
_TEMP_NAME = re.compile(r"^\..*\.pscore-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[a-z0-9_]+\.tmp(\.[^.]*)?$")
_HOST = hashlib.blake2s(socket.gethostname().encode("utf-8"), digest_size=4).hexdigest()
_swept: set[Path] = set()


def atomic_write(path: "str | Path", write: Callable[[Path], object]) -> Path:
    """Have ``write`` fill a temporary file next to ``path``, then rename it over ``path`` in one step.

    A crash or a full disk leaves the previous file intact, never a half-written one; SIGTERM or
    SIGHUP during the write remove the temporary file before the process ends, and temporary files
    left by a killed run are swept on the next write into the same folder. The result keeps the
    mode (and, where allowed, the group) of the file it replaces; a new file gets ordinary
    permissions (as if created with ``open``). A read-only file is never replaced.
    """
    path = Path(path)
    replaced = _check_target(path)
    _sweep_stale_temps(path.parent)
    prefix = f".{path.stem}.pscore-{_HOST}-{os.getpid()}-"
    with _removed_on_termination(path.parent, prefix):
        try:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=f".tmp{path.suffix}", dir=path.parent)
        except OSError as exc:
            raise WriteError(f"{path}: cannot write in the folder {path.parent}: {_reason(exc)}") from None
        os.close(fd)
        tmp = Path(name)
        try:
            try:
                write(tmp)
                _take_permissions(tmp, replaced)
                os.replace(tmp, path)
            except OSError as exc:
                raise WriteError(f"{path}: not written: {_reason(exc)}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path


def _check_target(path: Path) -> os.stat_result | None:
    """Refuse what cannot or must not be written before any work; the stat of the file replaced."""
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise WriteError(f"{path}: cannot write there: {folder} is a file, not a folder")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"{path}: cannot create the folder {path.parent}: {_reason(exc)}") from None
    if not path.exists():
        return None
    if path.is_dir():
        raise WriteError(f"{path}: is a folder, not a file")
    replaced = path.stat()
    if not replaced.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise WriteError(f"{path}: the file is read-only and is left as it is; make it writable (chmod u+w) "
                         "or choose another output file")
    return replaced


def _take_permissions(tmp: Path, replaced: os.stat_result | None) -> None:
    """Give the new file the replaced file's mode and group, so a private or shared file stays so."""
    if replaced is None:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    os.chmod(tmp, stat.S_IMODE(replaced.st_mode) & 0o777)
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):  # only root may give a file away; a user keeps the group if a member
            os.chown(tmp, replaced.st_uid if os.geteuid() == 0 else -1, replaced.st_gid)


def _reason(exc: OSError) -> str:
    """The system's reason, naming a file only when it is not pscore's own temporary file."""
    if not exc.strerror:
        return str(exc)
    named = exc.filename is not None and not _TEMP_NAME.match(Path(os.fsdecode(exc.filename)).name)
    return f"{exc.strerror} ({exc.filename})" if named else exc.strerror


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _removed_on_termination(folder: Path, prefix: str) -> Iterator[None]:
    """SIGTERM or SIGHUP would end the process at once and leave its temporary file behind: for
    the duration, they first remove this process's temporary files named ``prefix...`` in
    ``folder`` (found by name, so one being created is not missed), then end the process as the
    signal would have (its parent sees the same signal). Only where the default action is in
    force, and only in the main thread, where Python runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(number: int, frame) -> None:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(prefix) and _TEMP_NAME.match(entry.name):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
        signal.signal(number, signal.SIG_DFL)
        signal.raise_signal(number)

    taken = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            taken[number] = signal.signal(number, terminate)
    try:
        yield
    finally:
        for number, handler in taken.items():
            signal.signal(number, handler)


def _sweep_stale_temps(folder: Path) -> None:
    """Remove pscore's own temporary files in ``folder`` that no write will finish: left by a
    process of this machine that is gone, or older than :data:`TEMP_MAX_AGE`. Nothing else is
    touched. Each folder is swept once per process (a batch of scorecards writes hundreds of files
    into one)."""
    if folder in _swept:
        return
    _swept.add(folder)
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                abandoned = match["host"] == _HOST and not _running(int(match["pid"]))
                if abandoned or now - entry.stat(follow_symlinks=False).st_mtime > TEMP_MAX_AGE:
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists. On Windows ``os.kill`` would end it, so there only age counts."""
    if os.name == "nt" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True


def atomic_save(workbook: Workbook, path: "str | Path", stamp: dt.datetime | None = None) -> Path:
    """Save an openpyxl workbook atomically (see :func:`atomic_write`).

    With ``stamp``, the document's created/modified dates and every archive member carry that time
    instead of "now", so the same content always saves to the same bytes.
    """
    if stamp is None:
        return atomic_write(path, workbook.save)
    return atomic_write(path, lambda tmp: _save_stamped(workbook, tmp, stamp))


def _save_stamped(workbook: Workbook, filename: Path, stamp: dt.datetime) -> None:
    workbook.properties.created = workbook.properties.modified = stamp
    with _StampedZip(filename, stamp.timetuple()[:6]) as archive:
        ExcelWriter(workbook, archive).save()


class _StampedZip(zipfile.ZipFile):
    """Zip archive whose members all carry one timestamp (openpyxl's own save uses the clock)."""

    def __init__(self, file: "str | Path", stamp: tuple[int, int, int, int, int, int]):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = stamp

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        self.writestr(arcname or str(filename), Path(filename).read_bytes(), compress_type, compresslevel)
