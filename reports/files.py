"""Writing an output file in one step: a crash, a full disk or a SIGTERM leaves the previous file,
never half of a new one. Everything pscore writes (PDFs, workbooks, model files) goes through here."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["TEMP_MAX_AGE", "WriteError", "atomic_write"]


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
