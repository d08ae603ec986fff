"""Column access to a partner frame that is cheap for one partner and for a million.

pandas charges tens of microseconds per column lookup, which dominates a one-partner call (an Excel
row UDF). Small frames are therefore turned into one object matrix up front and sliced; large
frames are read column by column, with numeric metrics taken as one float block. Both give the
same values: numbers convert to the same floats either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SMALL = 256  # rows; below this one object matrix is cheaper than per-column access


class PartnerTable:
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.n = len(frame)
        self.index = frame.index
        self.names = tuple(frame.columns)
        self.dtypes = tuple(frame.dtypes)
        self._position: dict[str, int] = {}
        for i, name in enumerate(self.names):
            self._position.setdefault(name, i)  # a repeated header: the first column wins
        self._cells = frame.to_numpy(dtype=object) if self.n <= SMALL else None

    def __contains__(self, name: str) -> bool:
        return name in self._position

    def objects(self, name: str) -> np.ndarray:
        """The column's cells as Python objects (NaN/None/NA for blanks)."""
        i = self._position[name]
        if self._cells is not None:
            return self._cells[:, i]
        return self.frame.iloc[:, i].to_numpy(dtype=object)

    def dates(self, name: str, parse) -> np.ndarray:
        """The column as ``datetime64[D]``; ``parse`` reads object cells (text, dates, blanks)."""
        i = self._position[name]
        if self._cells is None and pd.api.types.is_datetime64_any_dtype(self.dtypes[i]):
            return self.frame.iloc[:, i].to_numpy().astype("datetime64[D]")
        return parse(self.objects(name))

    def floats_into(self, names: list[str], out: np.ndarray, rows: list[int]) -> None:
        """Write numeric-dtype columns into ``out[rows]`` (metric-major), NaN for blanks.

        Large frames go column by column, so no second full-size block is ever held in memory.
        """
        positions = [self._position[name] for name in names]
        if self._cells is not None:
            try:
                out[rows] = self._cells[:, positions].T.astype(float)
                return
            except TypeError:  # pd.NA in a nullable column: let pandas convert it
                pass
        for row, i in zip(rows, positions):
            out[row] = self.frame.iloc[:, i].to_numpy(dtype=float, na_value=np.nan)
