"""Safe, unique file names for per-partner PDF scorecards.

Partner ids and names come from spreadsheets typed by people: they can hold path
separators ("../../etc/passwd"), control characters, Windows device names ("CON") or
only differ in case, which a case-insensitive filesystem (Windows, macOS) would treat
as one file so that one scorecard silently overwrites another. Names in any script stay
readable ("Sistemas-Ibérica", "株式会社テスト") because the people opening the folder
look partners up by name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_FALLBACK = "partner"
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_DASHES = re.compile(r"-{2,}")

#: Longest part of a scorecard file name taken by the partner id, and by id + name.
_MAX_ID_CHARS = 40
_MAX_STEM_CHARS = 100
#: Most filesystems cap a name at 255 bytes (UTF-8 on Linux/macOS), and CJK letters
#: take 3-4 bytes each; the rest of the 255 is left for "-N" and the suffix.
_MAX_STEM_BYTES = 200


def _slug(text: str) -> str:
    """Letters, marks and digits of ``text`` (NFKC), every other run turned into one '-'."""
    kept = (
        ch if unicodedata.category(ch)[0] in "LMN" else "-"
        for ch in unicodedata.normalize("NFKC", text)
    )
    return _DASHES.sub("-", "".join(kept)).strip("-")


def safe_stem(text: str, max_length: int = 80, *, max_bytes: int | None = None) -> str:
    """File-name stem for ``text``, safe on Windows, macOS and Linux.

    Keeps letters and digits of any script; every other character (spaces, '.', '/',
    '\\', ':', control characters, ...) becomes '-', runs of '-' collapse and edge '-'
    are stripped, so the result never contains a dot: it cannot be '.', '..' or grow an
    extension. Empty results become "partner", Windows device names get a trailing '-'
    ("CON" -> "CON-"). At most ``max_length`` characters and, if given, ``max_bytes``
    UTF-8 bytes, without a trailing '-'.
    """
    limits = [max_length] if max_bytes is None else [max_length, max_bytes]
    if min(limits) < len(_FALLBACK):
        raise ValueError(f"max_length and max_bytes must be at least {len(_FALLBACK)}")
    stem = _slug(text)[:max_length]
    if max_bytes is not None:
        stem = stem.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
    stem = stem.rstrip("-") or _FALLBACK
    if stem.upper() in _RESERVED:
        stem += "-"
    return stem


def _key(file_name: str) -> str:
    """Comparison key of a case-insensitive filesystem (errs towards more collisions)."""
    return unicodedata.normalize("NFKC", file_name.casefold())


def scorecard_names(
    partners: Sequence[tuple[str, str | None]], suffix: str = ".pdf"
) -> list[str]:
    """One file name per ``(partner_id, partner_name)``, in order, unique ignoring case.

    A name is ``"{id}_{name}{suffix}"``, or ``"{id}{suffix}"`` when the partner name has
    no letters or digits (blank, None, NaN). The stem is at most 100 characters and 200
    UTF-8 bytes. When partners would share a name, the first keeps it and later ones get
    "-2", "-3", ...: the lowest number whose name is neither another partner's own name
    nor already given out. So a partner whose name is unique always gets it unchanged.
    """
    stems = []
    for partner_id, name in partners:
        id_stem = safe_stem(partner_id, _MAX_ID_CHARS)
        if not isinstance(name, str) or not _slug(name):
            stems.append(id_stem)
            continue
        used_bytes = len(id_stem.encode("utf-8")) + 1
        name_stem = safe_stem(
            name,
            _MAX_STEM_CHARS - len(id_stem) - 1,
            max_bytes=_MAX_STEM_BYTES - used_bytes,
        )
        stems.append(f"{id_stem}_{name_stem}")

    taken = {_key(stem + suffix) for stem in stems}
    given: set[str] = set()
    names = []
    for stem in stems:
        name = stem + suffix
        if _key(name) in given:
            number = 2
            while _key(name := f"{stem}-{number}{suffix}") in taken:
                number += 1
        given.add(_key(name))
        taken.add(_key(name))
        names.append(name)
    return names
