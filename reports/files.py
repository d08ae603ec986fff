"""Writing an output file in one step: a crash or a full disk leaves the previous file, never half
of a new one. Everything pscore writes (PDFs, workbooks, model files) goes through here."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["atomic_write"]


def atomic_write(path: "str | Path", write: Callable[[Path], object]) -> Path:
    """Have ``write`` fill a temporary file next to ``path``, then rename it over ``path`` in one step.

    A crash or a full disk leaves the previous file intact, never a half-written one. The result
    gets ordinary permissions (as if created with ``open``), not the temporary file's private ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
