"""How one spreadsheet cell is read: a number, a date, a truth value, a category, text or blank.

Workbook sheets, Excel function arguments and frames handed to :func:`scoring.score` all go through
these functions, so ``$1,200``, ``85%``, ``#N/A``, ``45658`` or ``TRUE`` mean the same everywhere.
A parser returns ``(value, note)``: the value pscore works with and, when the cell was not plain,
a ``(problem, action)`` note that becomes a data-quality record.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any, Callable

import numpy as np
import pandas as pd

__all__ = [
    "BLANK_WORDS", "EARLIEST_DATE", "EXCEL_ERRORS", "FALSE_WORDS", "Note", "PERCENT_COLUMN", "PERCENT_RANGE", "Parsed",
    "TRUE_WORDS", "category", "category_key", "clean", "date", "dates", "distinct", "excel_date", "excel_error",
    "is_null", "number", "parse_number", "passthrough", "per_unique", "percent_mask", "percent_note", "percent_rule",
    "plausible_dates", "shown_number", "text", "truth",
]

Note = tuple[str, str] | None
Parsed = tuple[Any, Note]

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                          "#GETTING_DATA"})
#: Text that means "no value" in a number column.
BLANK_WORDS = frozenset({"n/a", "na", "-", "--", "—", "–", "none", "null", "nil", "?", "tbd", "unknown"})
#: Truth values as people type them (compared by :func:`category_key`).
TRUE_WORDS = ("yes", "y", "true", "t", "1", "x", "1.0")
FALSE_WORDS = ("no", "n", "false", "f", "0", "0.0")
#: Dates before this are typing slips (a year typed as a number, Excel's day 1), not onboarding history.
EARLIEST_DATE = dt.date(1990, 1, 1)
#: In a column of percentages, plain numbers in this range are read as percentages (85 -> 0.85).
#: Numbers up to 1 are fractions already (Excel stores 85% as 0.85); 1-2 and above 100 are left as
#: typed, so the scorecard's valid range decides about them.
PERCENT_RANGE = (2.0, 100.0)
#: The note of a number divided by 100 by its column's rule: recorded once per column, not per cell.
PERCENT_COLUMN: Note = ("read as a percentage by the column's rule", "divided by 100")

_BOOLS = (bool, np.bool_)
_NUMBERS = (int, float, np.integer, np.floating)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_KEY_SPACES = re.compile(r"[\s_\-]+")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_SERIALS = (1, 2958466)  # 1900-01-01 .. 9999-12-31
_NUMBER_CORE = re.compile(r"(\D*?)([+-]?(?:\d[\d.,]*|[.,]\d+))(\D*)")
_THOUSANDS_COMMA = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?")  # 1,234,567.89
_THOUSANDS_INDIAN = re.compile(r"[+-]?[1-9]\d?(,\d{2})+,\d{3}(\.\d+)?")  # 12,34,567.89
_THOUSANDS_DOT = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?")  # 1.234.567,89
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")  # 12,5
#: Currency written with letters (compared ignoring case): ISO codes and local abbreviations.
_CURRENCY_WORDS = frozenset({
    "usd", "eur", "gbp", "jpy", "inr", "chf", "try", "brl", "sek", "nok", "dkk", "isk", "pln", "czk", "huf", "ron",
    "bgn", "rsd", "uah", "rub", "cad", "aud", "nzd", "cny", "rmb", "hkd", "sgd", "twd", "krw", "thb", "myr", "idr",
    "php", "vnd", "pkr", "bdt", "lkr", "mxn", "ars", "clp", "cop", "pen", "zar", "ngn", "kes", "egp", "mad", "ils",
    "aed", "sar", "qar", "kwd",
    "kr", "rs", "r", "zł", "kč", "ft", "lei", "lv", "rm", "fr", "sfr", "din", "kn", "rp", "tl", "dh", "dhs",
})
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y",
                 "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d-%b-%Y", "%Y%m%d")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")
_PERCENT_WORDS = frozenset({"percent", "percentage", "pct"})


# ------------------------------------------------------------------ blanks, text and categories


def is_null(value: Any) -> bool:
    """Blank cell: None, NaN, pandas NA or NaT (what ``pd.factorize`` treats as missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, np.datetime64) and np.isnat(value)


def clean(value: Any) -> str:
    """A cell as text with runs of spaces (also non-breaking ones) folded and the ends trimmed."""
    return _SPACES.sub(" ", str(value)).strip()


def category_key(value: object) -> str:
    """Case-, spacing- and punctuation-insensitive key for matching categories ("In_Progress" == "in progress")."""
    return _KEY_SPACES.sub(" ", str(value)).strip().casefold()


def excel_error(value: Any) -> Note:
    """The note for an Excel error value (``#N/A``, ``#DIV/0!``, ...), None for anything else."""
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        return (f"Excel error {value.strip().upper()}", "treated as missing")
    return None


def _typed_text(value: Any) -> Parsed:
    """A cell as typed text, spacing cleaned: (text, None), or (None, None) for a blank and
    (None, the Excel error's note) for an error value -- the first step of every text reading."""
    shown = clean(value)
    if not shown:
        return None, None
    error = excel_error(shown)
    return (None, error) if error else (shown, None)


def text(value: Any) -> Parsed:
    """Text such as an ID or a name; an ID typed as a number keeps no ``.0`` (1001.0 -> "1001")."""
    if is_null(value):
        return None, None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return _typed_text(value)


def category(value: Any) -> Parsed:
    """A category (or truth value) as typed, spacing cleaned; whether the model knows it is the scorecard's call."""
    if isinstance(value, str):
        return _typed_text(value)
    return (None, None) if is_null(value) else (value, None)


def passthrough(value: Any) -> Parsed:
    """A column pscore does not use: only Excel errors and surrounding spaces are cleaned."""
    if isinstance(value, str):
        shown = value.strip()
        error = excel_error(shown)
        return (None, error) if error else (shown or None, None)
    return value, None


def truth(value: Any) -> float:
    """1.0 or 0.0 from ``TRUE``/``FALSE``, ``yes``/``no``, ``1``/``0``, ``x``; NaN for anything else."""
    if isinstance(value, _BOOLS):
        return float(value)
    if isinstance(value, _NUMBERS):
        return float(value) if value in (0, 1) else np.nan
    if is_null(value):
        return np.nan
    key = category_key(value)
    return 1.0 if key in TRUE_WORDS else 0.0 if key in FALSE_WORDS else np.nan


# ------------------------------------------------------------------ numbers


def number(value: Any, percents: bool = False) -> Parsed:
    """A number from what a user typed: ``"$12,500"``, ``" 7 "``, ``"85%"``, ``"(300)"``, ``"₺2.727.300"``.

    With ``percents`` (the column holds percentages, see :func:`percent_rule`) a plain number in
    :data:`PERCENT_RANGE` is divided by 100. Truth values and dates are returned as they are, and
    text that is no number as the text: the scorecard flags them as invalid values.
    """
    if value is None or isinstance(value, _BOOLS):
        return value, None
    if isinstance(value, (dt.date, dt.datetime)):
        return value, ("a date where a number belongs", "not used")
    if isinstance(value, _NUMBERS):
        if value != value:
            return None, None
        found = float(value)
        if percents and PERCENT_RANGE[0] <= found <= PERCENT_RANGE[1]:
            return found / 100.0, PERCENT_COLUMN
        return found, None
    if is_null(value):
        return None, None
    shown, note = _typed_text(value)
    if shown is None:
        return None, note
    if shown.casefold() in BLANK_WORDS:
        return None, (f"'{shown}' means no value", "treated as missing")
    found, percent = parse_number(shown)
    if found is None:
        return shown, None
    if percent:
        read = found / 100.0
        return read, (f"'{shown}' is a percentage", f"read as {shown_number(read)}")
    if percents and PERCENT_RANGE[0] <= found <= PERCENT_RANGE[1]:
        read = found / 100.0
        return read, (f"number stored as text '{shown}'", f"read as the percentage {shown_number(read)}")
    if _plain(shown):
        return found, None
    return found, (f"number stored as text '{shown}'", f"read as {shown_number(found)}")


def shown_number(value: float) -> str:
    """A number as a note shows it: every significant digit, no trailing zeros (2727300, 0.85)."""
    return f"{value:.15g}"


def percent_mask(values: np.ndarray) -> np.ndarray:
    """Which plain numbers of a column of percentages :func:`number` divides by 100 (vectorised)."""
    with np.errstate(invalid="ignore"):
        return (values >= PERCENT_RANGE[0]) & (values <= PERCENT_RANGE[1])


def parse_number(shown: str) -> tuple[float | None, bool]:
    """``"$12,500"``, ``"12 500 €"``, ``"R$ 1.234,5"``, ``"(300)"``, ``"85 %"`` -> ``(number, written with %)``;
    ``(None, False)`` if the text is not a number."""
    cleaned = shown.replace(" ", "").replace("'", "").replace("’", "")
    percent = cleaned.endswith("%")
    cleaned = cleaned.rstrip("%")
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    parts = _NUMBER_CORE.fullmatch(cleaned)
    if parts is not None:
        body = cleaned
        prefix, cleaned, suffix = parts.groups()
        if prefix and prefix[0] in "+-":  # a sign before the currency: -$300
            cleaned, prefix = prefix[0] + cleaned.lstrip("+-"), prefix[1:]
        if not (_currency(prefix) and _currency(suffix)):
            cleaned = body  # not money, but maybe still a number: 1.5e3
        elif _THOUSANDS_COMMA.fullmatch(cleaned) or _THOUSANDS_INDIAN.fullmatch(cleaned):
            cleaned = cleaned.replace(",", "")
        elif _THOUSANDS_DOT.fullmatch(cleaned):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        elif _DECIMAL_COMMA.fullmatch(cleaned):
            cleaned = cleaned.replace(",", ".")
    try:
        found = float(cleaned)
    except ValueError:
        return None, False
    if not math.isfinite(found):
        return None, False
    return (-found if negative else found), percent


def _currency(affix: str) -> bool:
    """Empty, or a currency marker: symbols (``$ € £ ¥ ₹ ₺ ₽ ₩ ...``), a code with a symbol (``R$``, ``US$``,
    ``HK$``), an ISO code (``CHF``, ``TRY``) or a local abbreviation (``kr``, ``zł``, ``Rs.``)."""
    word = affix.strip(".")
    if not word:
        return not affix
    cut = len(word)
    while cut and unicodedata.category(word[cut - 1]) == "Sc":
        cut -= 1
    letters = word[:cut]
    if cut < len(word):
        return not letters or (letters.isascii() and letters.isalpha() and len(letters) <= 3)
    return letters.casefold() in _CURRENCY_WORDS


def _plain(shown: str) -> bool:
    try:
        float(shown)
    except ValueError:
        return False
    return True


def percent_rule(header: str, unit: str | None, valid_range: "tuple[float, float] | None") -> tuple[bool, str] | None:
    """Whether a column's plain numbers from 2 to 100 are percentages, and why; None if the rule does not apply.

    Decided per column from its header and the metric's catalog entry, never from the values: a
    share metric (unit ``share``) reads them as percentages when the header says so (``%``,
    ``percent``, ``pct``) or when the metric cannot exceed 1; otherwise, as for a ratio that may
    exceed 1 (a target realisation of 2.13), every number is taken as typed.
    """
    if unit != "share":
        return None
    words = set(re.split(r"[^0-9a-z%]+", header.casefold()))
    if "%" in header or words & _PERCENT_WORDS:
        return True, "the header says %"
    if valid_range is not None and valid_range[1] <= 1:
        return True, "a share cannot be above 1"
    return False, "the header has no % and the metric may exceed 1"


def percent_note(rule: tuple[bool, str], count: int, example: float) -> Note:
    """The one record of what a column's percentage rule did (see :func:`percent_rule`)."""
    percents, reason = rule
    if percents:
        return (f"numbers from {PERCENT_RANGE[0]:g} to {PERCENT_RANGE[1]:g} read as percentages: {reason}",
                f"{count} value{'s' * (count != 1)} divided by 100 (e.g. {shown_number(example)} -> "
                f"{shown_number(example / 100)})")
    return (f"numbers above 1 read as typed, not as percentages: {reason}",
            f"{count} value{'s' * (count != 1)} kept as typed (e.g. {shown_number(example)}); type 85% for a percentage")


# ------------------------------------------------------------------ dates


def excel_date(serial: float) -> dt.date:
    """The date of an Excel (1900 system) serial number: 1 is 1900-01-01, 45658 is 2025-01-01.

    Excel counts a 29 February 1900 that never was (serial 60), so serials before it are one day
    early against the calendar; 60 itself is read as 28 February, as openpyxl and pandas do.
    """
    days = math.floor(serial)
    if days < 60:
        days += 1
    return _EXCEL_EPOCH + dt.timedelta(days=days)


def date(value: Any) -> Parsed:
    """A date from a date cell, an Excel serial number or text in a common format.

    Dates before :data:`EARLIEST_DATE` are treated as missing, with a note: they are slips (the
    number 1 is Excel's 1900-01-01), and a start date in 1900 would make a partner 1,500 months old.
    """
    if is_null(value):
        return None, None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        return _plausible(value.date(), None)
    if isinstance(value, dt.date):
        return _plausible(value, None)
    if isinstance(value, _NUMBERS) and not isinstance(value, _BOOLS):
        if _EXCEL_SERIALS[0] <= value < _EXCEL_SERIALS[1]:
            found = excel_date(value)
            return _plausible(found, (f"date stored as the number {value:g}", "read as an Excel date serial"),
                              f"the number {value:g}")
        return None, (f"{value:g} is not a date", "treated as missing")
    shown, note = _typed_text(value)
    if shown is None:
        return None, note
    for fmt in _DATE_FORMATS:
        try:
            return _plausible(dt.datetime.strptime(shown, fmt).date(), None)
        except ValueError:
            continue
    slash = _SLASH_DATE.fullmatch(shown)
    if slash:
        a, b, year = int(slash[1]), int(slash[2]), int(slash[3])
        year += 2000 if year < 100 else 0
        try:
            if a > 12:
                return _plausible(dt.date(year, b, a), None)
            if b > 12 or a == b:
                return _plausible(dt.date(year, a, b), None)
            return _plausible(dt.date(year, a, b), (f"ambiguous date '{shown}'", "read as month/day/year"))
        except ValueError:
            pass
    try:
        return _plausible(dt.datetime.fromisoformat(shown).date(), None)
    except ValueError:
        pass
    return None, (f"'{shown}' is not a date", "treated as missing")


def _plausible(found: dt.date, note: Note, typed: str = "") -> Parsed:
    if found >= EARLIEST_DATE:
        return found, note
    what = f"{typed} as an Excel date is {found.isoformat()}," if typed else f"{found.isoformat()} is"
    return None, (f"{what} before {EARLIEST_DATE.year}", "treated as missing (not a plausible date)")


def plausible_dates(days: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` values with dates before :data:`EARLIEST_DATE` blanked (NaT), as :func:`date` does."""
    days = np.asarray(days, dtype="datetime64[D]")
    early = days < np.datetime64(EARLIEST_DATE, "D")
    return np.where(early, np.datetime64("NaT"), days) if early.any() else days


def dates(values: np.ndarray) -> np.ndarray:
    """A column of cells as ``datetime64[D]``, each distinct value read once by :func:`date` (NaT where unusable)."""
    codes, uniques = distinct(np.asarray(values, dtype=object))
    found = np.empty(len(uniques) + 1, dtype="datetime64[D]")
    for k, u in enumerate(uniques):
        day = date(u)[0]
        found[k] = np.datetime64("NaT") if day is None else np.datetime64(day, "D")
    found[-1] = np.datetime64("NaT")
    return found[codes]


# ------------------------------------------------------------------ grouping equal cells


def distinct(values: np.ndarray) -> tuple[np.ndarray, list]:
    """``(codes, uniques)`` of a column of cells, code -1 for blanks, so each distinct cell is read once.

    ``True == 1`` in Python, but a truth value in a number column is not the number 1: truth values
    are kept apart from numbers, whichever comes first. Few cells (a row function): a dict beats
    hashing in pandas.
    """
    if len(values) <= 16:
        seen: dict = {}
        codes = np.array([-1 if is_null(v) else seen.setdefault((v, isinstance(v, _BOOLS)), len(seen))
                          for v in values], dtype=np.int64)
        return codes, [key[0] for key in seen]
    codes, found = pd.factorize(values, use_na_sentinel=True)
    uniques = list(found)
    shared = [k for k, u in enumerate(uniques) if isinstance(u, (*_BOOLS, *_NUMBERS)) and (u == 0 or u == 1)]
    if shared:
        at = np.flatnonzero(np.isin(codes, shared))
        if pd.api.types.infer_dtype(values[at], skipna=False) not in ("boolean", "integer", "floating",
                                                                     "mixed-integer-float"):
            split: dict[int, int] = {}
            for p in at:
                k = codes[p]
                if isinstance(values[p], _BOOLS) != isinstance(uniques[k], _BOOLS):
                    if k not in split:
                        split[k] = len(uniques)
                        uniques.append(values[p])
                    codes[p] = split[k]
    return codes, uniques


def per_unique(values: np.ndarray, fn: Callable[[Any], Any], null: Any = None) -> np.ndarray:
    """Apply ``fn`` once per distinct non-null cell and broadcast: columns repeat few values."""
    codes, uniques = distinct(values)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = null
    return mapped[codes]  # code -1 (null) picks the trailing entry
