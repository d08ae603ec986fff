"""xlwings' own UDF machinery without Excel, so tests and benchmarks call the add-in's functions exactly
as Excel would.

xlwings binds its real decorators (``xlwings.udfs.xlfunc/xlarg/xlret/xlsub``) only on Windows with
pywin32, and converts every argument and result through an engine. Here the three pywin32 modules
are stubbed so ``xlwings.udfs`` imports, a minimal engine cleans values the way xlwings' Windows
engine does (``xlwings._xlwindows``: COM error codes, dates, blanks), and :func:`call_udf` runs a
function exactly as ``xlwings.udfs.call_udf`` does for values. Used by the tests and the benchmark.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import sys
import types
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

STUBBED = ("pythoncom", "pywintypes", "win32com", "win32com.client")
MISSING = -2147352572  # what COM passes for an omitted optional argument
#: Excel error values as COM passes them to Python (xlwings._xlwindows.cell_errors).
ERROR_CODES = {
    "#DIV/0!": -2146826281, "#N/A": -2146826246, "#NAME?": -2146826259, "#NULL!": -2146826288,
    "#NUM!": -2146826252, "#REF!": -2146826265, "#VALUE!": -2146826273,
}
_ERROR_TEXT = {code: text for text, code in ERROR_CODES.items()}


class ClassicEngine:
    """Value cleaning of xlwings' Windows engine, minus COM: what ``conversion.read/write`` call."""

    name = "excel"
    type = "desktop"

    @staticmethod
    def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):
        def clean(value):
            if value in ("", None):
                return empty_as
            if isinstance(value, dt.datetime):  # pywintypes' time type is a datetime
                return datetime_builder(year=value.year, month=value.month, day=value.day, hour=value.hour,
                                        minute=value.minute, second=value.second,
                                        microsecond=value.microsecond, tzinfo=None)
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            if isinstance(value, int) and value in _ERROR_TEXT:
                return _ERROR_TEXT[value] if err_to_str else None
            return value

        return [[clean(c) for c in row] for row in data]

    @staticmethod
    def prepare_xl_data_element(x, date_format):
        if isinstance(x, (dt.date, dt.datetime)):
            return x
        if pd.isna(x):
            return ""
        if isinstance(x, np.number):
            return float(x)
        if x is None:
            return ""
        return x


@contextlib.contextmanager
def xlwings_udfs(*module_names: str) -> Iterator[dict[str, types.ModuleType]]:
    """Import ``module_names`` with xlwings' real UDF decorators bound; undo everything afterwards."""
    saved = {name: sys.modules.get(name) for name in (*STUBBED, "xlwings.udfs", *module_names)}
    for name in STUBBED:
        sys.modules[name] = _stub(name)
    sys.modules["win32com"].client = sys.modules["win32com.client"]
    import xlwings
    import xlwings.udfs as udfs

    bound = {"func": udfs.xlfunc, "arg": udfs.xlarg, "ret": udfs.xlret, "sub": udfs.xlsub, "script": udfs.xlsub}
    previous = {name: getattr(xlwings, name, None) for name in bound}
    engine = xlwings.Engine(impl=ClassicEngine())
    xlwings.engines.add(engine)
    try:
        for name, decorator in bound.items():
            setattr(xlwings, name, decorator)
        modules = {}
        for name in module_names:
            sys.modules.pop(name, None)
            modules[name] = importlib.import_module(name)
        yield modules
    finally:
        for name, decorator in previous.items():
            setattr(xlwings, name, decorator)
        xlwings.engines.engines.remove(engine)
        xlwings.engines.engines_by_name.pop("excel", None)
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _stub(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.CoInitialize = lambda: None  # pythoncom: xlwings.udfs' thread pool initializer
    module.com_error = type("com_error", (Exception,), {})  # pywintypes
    module.Dispatch = lambda *a, **k: None  # win32com.client
    return module


def call_udf(func: Callable, *args: Any) -> Any:
    """Call ``func`` as ``xlwings.udfs.call_udf`` does for values: each argument through
    ``conversion.read(None, value, options)`` (an omitted optional one gets its default), the result
    through ``conversion.write(result, None, options)``; returns what xlwings hands Excel."""
    from xlwings import conversion

    info = func.__xlfunc__
    arg_info = info["args"]
    values = [*args, *[MISSING] * (len(arg_info) - len(args))]  # VBA passes every argument
    for i, arg in enumerate(values):
        meta = arg_info[min(i, len(arg_info) - 1)]
        if isinstance(arg, int) and arg == MISSING:
            values[i] = meta.get("optional", None)
        else:
            values[i] = conversion.read(None, arg, meta["options"])
    result = func(*values)
    return conversion.write(result, None, info["ret"]["options"])


def as_excel_sends(grid: list[list[Any]], *, dates_as_serials: bool = False) -> tuple[tuple[Any, ...], ...]:
    """Cell values as Excel passes a range to a function: tuples of rows, floats for numbers, None
    for blanks, COM error codes for error values, datetimes for dates (serial numbers in xlwings
    Lite, with ``dates_as_serials``)."""
    def one(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and value in ERROR_CODES:
            return ERROR_CODES[value]
        if isinstance(value, (dt.date, dt.datetime)):
            stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
            return (stamp - dt.datetime(1899, 12, 30)).days * 1.0 if dates_as_serials else stamp
        return value

    width = max((len(row) for row in grid), default=0)  # a range is rectangular
    return tuple(tuple(one(v) for v in [*row, *[None] * (width - len(row))]) for row in grid)
