"""The result of scoring a batch: numbers computed eagerly, text and tables on first use.

A one-partner Excel UDF needs a score in well under a millisecond; a million-partner batch needs
every column. So :func:`scoring.engine.score` computes the numbers (scores, tiers, contributions)
and this object derives the rest -- percentiles, driver and action text, flags, the public frame,
long-format tables -- only when asked, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

from scoring import drivers
from scoring import flags
from scoring import playbook
from scoring.calibration import predict
from scoring.compiled import ADJUSTMENT, OUTCOMES, Compiled
from scoring.model.load import ScoringModel

#: Columns of :attr:`ScoreResult.frame`, in order; one ``<outcome>_<layer>`` score column per
#: outcome and layer follows them.
COLUMNS = (
    "partner_id", "partner_name", "segment", "stage", "months_since_start",
    "revenue_score", "engagement_score", "composite_score", "tier", "quadrant",
    "percentile", "segment_percentile", "coverage", "provisional",
    "drivers_up", "drivers_down", "actions", "flags",
)


@dataclass
class Core:
    """What the engine computed; metric-major arrays are ``(M, n)``, per-partner ones ``(n,)``."""

    partners: pd.DataFrame
    sub: np.ndarray
    status: dict[str, np.ndarray]
    row_flags: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]  # unrounded: revenue, engagement, composite, *_unadjusted
    layers: dict[str, np.ndarray]  # outcome -> (L, n)
    contrib: dict[str, np.ndarray]  # outcome -> (M + 1, n), last row the segment adjustment
    columns: dict[str, np.ndarray]  # eagerly computed public columns
    unknown_segment: dict[str, np.ndarray]  # dimension -> (n,) value blank or not known to the model
    segment_values: dict[str, np.ndarray]  # dimension -> (n,) value as read (canonical spelling if known)
    #: metric id -> (n,) blank cells of partners onboarded before the metric's ``since`` date (not flagged)
    unrecorded: dict[str, np.ndarray]
    #: revenue and engagement scores of the same data with every partner the given months into
    #: onboarding (one stage for all); computed only when called, for the calibrated predictions
    at_months: Callable[[float], dict[str, np.ndarray]]


class ScoreResult:
    """Scores for a batch of partners, row order and index as given.

    ``result["tier"]`` gives one column as an array (cheap); ``result.frame`` the public table;
    ``subscores``, ``layer_scores``, ``contributions`` and ``raw_scores`` keep full precision;
    ``flags`` and ``actions`` are long-format tables for data-quality sheets and reports.
    """

    def __init__(self, model: ScoringModel, compiled: Compiled, as_of: dt.date, core: Core):
        self.model = model
        self.as_of = as_of
        self._c = compiled
        self._core = core
        self._columns = dict(core.columns)
        self._lazy: dict[str, Callable[[], np.ndarray]] = {
            "percentile": lambda: percentile(self["composite_score"], None),
            "segment_percentile": lambda: percentile(self["composite_score"], self["segment"]),
            "drivers_up": lambda: self._drivers[0],
            "drivers_down": lambda: self._drivers[1],
            "actions": lambda: self._playbook.text,
            "flags": lambda: flags.describe(compiled, core.status, core.row_flags),
        }
        for outcome in OUTCOMES:
            for k, layer in enumerate(compiled.layer_ids):
                self._lazy[f"{outcome}_{layer}"] = lambda o=outcome, k=k: np.round(core.layers[o][k], 1)
        self._public = COLUMNS
        if model.spec.calibration is not None:  # predictions exist only for a calibrated model
            self._lazy.update(predict.lazy_columns(model, core.at_months))
            at = COLUMNS.index("coverage") + 1
            self._public = (*COLUMNS[:at], *predict.COLUMNS, *COLUMNS[at:])

    def __len__(self) -> int:
        return len(self._core.partners)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._columns:
            if name not in self._lazy:
                raise KeyError(f"no score column '{name}' (known: {', '.join(self.column_names)})")
            self._columns[name] = self._lazy[name]()
        return self._columns[name]

    @property
    def column_names(self) -> list[str]:
        return [*self._public, *(k for k in self._lazy if k not in self._public)]

    @property
    def baseline(self) -> float:
        """Score of a partner at the baseline on every metric; drivers are points above/below it."""
        return self.model.spec.drivers.baseline

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The public table: one row per partner, index = the input's index."""
        return pd.DataFrame({name: self[name] for name in self.column_names}, index=self._core.partners.index)

    @cached_property
    def _drivers(self) -> tuple[np.ndarray, np.ndarray]:
        return drivers.describe(self._c, self._contrib("composite"), self._c.spec.drivers.top_n)

    @cached_property
    def _playbook(self) -> playbook.Evaluated:
        core = self._core
        return playbook.evaluate(self._c, self, core.sub, self._flag)

    def _flag(self, name: str) -> np.ndarray:
        """Per-partner flag; metric-level flags (any metric missing, ...) only computed when a rule asks."""
        core = self._core
        return core.row_flags[name] if name in core.row_flags else core.status[name].any(axis=0)

    def _contrib(self, outcome: str) -> np.ndarray:
        if outcome == "composite":  # a fixed mix of the outcomes, so its drivers are the same mix
            cw_r, cw_e = self._c.composite
            mix = cw_r * self._core.contrib["revenue"] + cw_e * self._core.contrib["engagement"]
            mix[:, np.isnan(self._core.scores["composite"])] = 0.0  # unscored: nothing to explain
            return mix
        return self._core.contrib[outcome]

    def top_drivers(self, outcome: str = "composite", top_n: int | None = None) -> pd.DataFrame:
        """Long format: per partner, the top positive and negative drivers with their points."""
        top_n = top_n or self._c.spec.drivers.top_n
        names = [*self._c.metric_ids, ADJUSTMENT]
        labels = [*self._c.labels, "Segment adjustment"]
        frames = []
        for positive in (True, False):
            idx, points = drivers.top(self._contrib(outcome), top_n, positive)
            k, r = np.nonzero(idx >= 0)
            frames.append(pd.DataFrame({
                "_pos": r, "row": np.asarray(self._core.partners.index)[r],
                "partner_id": self["partner_id"][r], "direction": "up" if positive else "down",
                "rank": k + 1, "metric": np.array(names, dtype=object)[idx[k, r]],
                "label": np.array(labels, dtype=object)[idx[k, r]], "points": points[k, r],
            }))
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values("_pos", kind="stable").drop(columns="_pos").reset_index(drop=True)

    @cached_property
    def subscores(self) -> pd.DataFrame:
        """0-100 sub-score per metric (NaN where missing, invalid or out of range)."""
        return pd.DataFrame(self._core.sub.T, index=self._core.partners.index, columns=self._c.metric_ids)

    @cached_property
    def layer_scores(self) -> dict[str, pd.DataFrame]:
        """Per outcome: layer scores (NaN where a layer has no data)."""
        index = self._core.partners.index
        return {o: pd.DataFrame(v.T, index=index, columns=self._c.layer_ids) for o, v in self._core.layers.items()}

    @cached_property
    def contributions(self) -> dict[str, pd.DataFrame]:
        """Per outcome and ``composite``: points each metric (and the segment adjustment) adds to the score."""
        columns = [*self._c.metric_ids, ADJUSTMENT]
        index = self._core.partners.index
        return {o: pd.DataFrame(self._contrib(o).T, index=index, columns=columns) for o in (*OUTCOMES, "composite")}

    @cached_property
    def raw_scores(self) -> pd.DataFrame:
        """Unrounded scores (the frame shows them rounded to 0.1)."""
        return pd.DataFrame(self._core.scores, index=self._core.partners.index)

    @cached_property
    def flags(self) -> pd.DataFrame:
        """One row per (partner, flag[, metric or segment column]) with the offending value, and
        ``problem`` / ``action`` phrased for a data-quality report."""
        core = self._core
        return flags.table(self._c, core, self["partner_id"], self["coverage"])

    @property
    def unrecorded(self) -> dict[str, np.ndarray]:
        """Per metric with a ``since`` date: which partners were onboarded before it and have no value
        (not expected of them, so not flagged ``missing`` and left out of their coverage)."""
        return self._core.unrecorded

    @property
    def index(self) -> pd.Index:
        """The input's row index: one label per partner, in order (cheaper than ``frame.index``)."""
        return self._core.partners.index

    def recommended(self) -> tuple[list, np.ndarray]:
        """The playbook's rules in priority order and which of them each partner is recommended:
        a ``(rules, partners)`` boolean matrix (what :attr:`actions` lists, without building it)."""
        return self._playbook.rules, self._playbook.chosen

    @cached_property
    def actions(self) -> pd.DataFrame:
        """One row per (partner, recommended action), best first."""
        return self._playbook.table(self._core.partners.index, self["partner_id"])


def percentile(values: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Share of scored partners (overall, or in the same group) scoring at or below this one, 0-100.

    Scores are shown to 0.1 in [0, 100], so counting per 0.1 step (a histogram per group) gives the
    exact "at or below" count in linear time.
    """
    out = np.full(len(values), np.nan)
    scored = ~np.isnan(values)
    if not scored.any():
        return out
    steps = np.rint(values[scored] * 10).astype(np.int64)  # 0..1000
    if groups is None:
        codes = np.zeros(len(steps), dtype=np.int64)
    else:
        codes, _ = pd.factorize(groups[scored], use_na_sentinel=False)
    counts = np.bincount(codes * 1001 + steps, minlength=(codes.max() + 1) * 1001).reshape(-1, 1001)
    at_or_below = np.cumsum(counts, axis=1)
    sizes = at_or_below[:, -1]
    out[scored] = np.round(at_or_below[codes, steps] / sizes[codes] * 100.0, 0)
    return out
