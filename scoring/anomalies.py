"""Values that are valid but implausible: outliers, jumps, possible gaming, impossible combinations
and one partner under two IDs.

Reading catches what cannot be a value (text in a number column, a share above 1); this module
catches what is a value but should not be believed without a look:

* **outliers**: a metric far from its segment's median, in robust z-scores (distance from the median
  over 1.4826 x the median absolute deviation; 1.2533 x the mean absolute deviation where more than
  half the values are equal), on the log scale for metrics normalised on it;
* **jumps**: a change between two consecutive History snapshots of a partner far from the metric's
  usual change (the median and robust spread of every partner's changes, or the partner's own spread
  where that is wider, so a volatile partner is judged by its own history);
* **possible gaming**: a self-reported metric (its catalog ``source`` is partner portal or survey)
  whose sub-score rises by ``gaming_points`` or more between two snapshots while the independently
  recorded metrics (CRM, LMS) of the same snapshot rise by less than ``corroboration`` points on
  average (sub-scores put a survey, a day count and a certification level on one 0-100 scale);
* **impossible combinations**: values that cannot all be true (model rules, or :data:`BUILT_IN_RULES`);
* **duplicates**: the same name (ignoring case, accents, punctuation and legal suffixes such as Ltd)
  and country (region where there is no country) under different partner IDs.

Only numeric metrics (linear, log, piecewise) are judged for outliers and jumps: a category has no
distance. Everything is computed on whole columns. Each finding becomes one
:class:`scoring.quality.Record` with its reason in words; the model's ``anomalies.action`` says
whether the value is kept (and flagged) or left out of the score, which :meth:`Anomalies.screen`
applies before scoring -- so an anomaly never changes a score without a record saying so.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from scoring import cells
from scoring.compiled import KIND_LINEAR, KIND_LOG, KIND_PIECEWISE, Compiled, compile_model
from scoring.engine import months_between, to_date
from scoring.model.anomalies_schema import AnomalySettings, Comparison, ImpossibleRule
from scoring.model.load import ScoringModel, load_model
from scoring.result import ScoreResult
from scoring.normalize import extract, linear, piecewise
from scoring.quality import Record
from scoring.segments import membership
from scoring.table import PartnerTable

__all__ = ["BUILT_IN_RULES", "KEPT", "KINDS", "LEFT_OUT", "Anomalies", "detect", "name_key", "partner_ids", "robust_z"]

KINDS = ("outlier", "jump", "gaming", "impossible", "duplicate")
KEPT = "kept in the score; flagged for review"
LEFT_OUT = "left out as anomalous; weights re-normalised over the metrics present"
DUPLICATE_ACTION = "scored separately; check whether both IDs are one partner"
#: Robust spread: 1.4826 x MAD is the standard deviation of normal data; 1.2533 x the mean absolute
#: deviation likewise, used where the MAD is 0 (more than half the values equal).
MAD_SCALE, MEAN_AD_SCALE = 1.4826, 1.2533
#: Fewest earlier changes of its own before a partner's own spread is trusted for jumps.
OWN_CHANGES = 8
#: A metric that changes in fewer than this share of snapshots is judged by the least spread alone.
RARE_CHANGES = 0.1
#: A linear metric whose valid range reaches this many times past its floor and target is open-ended.
OPEN_ENDED = 10
#: Smallest spread of changes: log(1.5) on the log scale, 10% of floor-to-target otherwise.
LEAST_RATIO, LEAST_SHARE = float(np.log(1.5)), 0.1
COLUMNS = ("kind", "sheet", "index", "partner_id", "metric", "value", "z", "problem")

#: Impossible combinations of the default catalog, used when a model has no ``anomalies.impossible``
#: list and has every metric a rule names. Windows differ between metrics (deals since onboarding
#: start, leads over 90 days, conversion over 180 days), so some rules hold only while the whole of a
#: partner's onboarding falls inside the shorter window.
BUILT_IN_RULES = (
    ImpossibleRule(id="deals_above_leads", all=[Comparison(left="deals_won", op=">", right="qualified_leads")],
                   max_months=2.9,
                   reason="every deal starts as a lead, and all of a partner's leads since onboarding start fall "
                          "in the 90-day count"),
    ImpossibleRule(id="conversion_without_deals",
                   all=[Comparison(left="deal_conversion_rate", op=">", right=0.0),
                        Comparison(left="deals_won", op="==", right=0.0)],
                   reason="a conversion rate above 0 needs at least one won deal"),
    ImpossibleRule(id="deals_without_conversion",
                   all=[Comparison(left="deal_conversion_rate", op="==", right=0.0),
                        Comparison(left="deals_won", op=">", right=0.0)],
                   max_months=5.9,
                   reason="deals won since onboarding start all fall in the 180-day conversion rate, so it "
                          "cannot be 0"),
    ImpossibleRule(id="contract_size_without_deals",
                   all=[Comparison(left="average_contract_size", op=">", right=0.0),
                        Comparison(left="deals_won", op="==", right=0.0)],
                   reason="an average contract size needs at least one won deal"),
)
_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "!=": np.not_equal}
_LEGAL = re.compile(r"\b(ltd|limited|inc|incorporated|llc|llp|gmbh|ag|sa|sas|sarl|srl|spa|bv|nv|plc|corp|"
                    r"corporation|co|company|pty|kk|ab|as|oy|kft|sro|zoo|sp)\b")


@dataclass(frozen=True)
class Anomalies:
    """What the checks found, one row per finding in :attr:`table` (:data:`COLUMNS`): ``sheet`` is
    ``partners`` or ``history``, ``index`` the row's label in that frame (the sheet row, as read),
    ``value`` the cell as given, ``z`` the robust z-score (NaN for rules and duplicates), ``problem``
    the reason in words. ``action`` is the model's: keep or leave out."""

    table: pd.DataFrame
    action: str

    def __len__(self) -> int:
        return len(self.table)

    def counts(self) -> dict[str, int]:
        """Findings per kind, every kind listed (0 where none)."""
        found = self.table["kind"].value_counts()
        return {k: int(found.get(k, 0)) for k in KINDS}

    def left_out(self) -> pd.DataFrame:
        """The Partners cells the score leaves out (index, metric): none unless the action is ``leave_out``;
        duplicates are never left out."""
        if self.action != "leave_out":
            return self.table.iloc[:0][["index", "metric"]]
        rows = self.table[(self.table["sheet"] == "partners") & (self.table["kind"] != "duplicate")]
        return rows[["index", "metric"]].drop_duplicates()

    def screen(self, partners: pd.DataFrame) -> pd.DataFrame:
        """``partners`` with the cells :meth:`left_out` blanked (the frame itself when nothing is)."""
        cut = self.left_out()
        if cut.empty:
            return partners
        out = partners.copy()
        for metric, rows in cut.groupby("metric", sort=False):
            column = out[metric].astype(object)
            column[out.index.isin(rows["index"])] = None
            out[metric] = column
        return out

    def records(self, sheet: str, headers: Mapping[str, str] | None = None, *, history_sheet: str = "History",
                history_headers: Mapping[str, str] | None = None) -> list[Record]:
        """One data-quality record per finding, on the Partners sheet ``sheet`` or the History sheet,
        the column named as the user sees it."""
        headers, history_headers = headers or {}, history_headers or {}
        leave = self.action == "leave_out"
        out = []
        for kind, on, index, partner, metric, value, _, problem in self.table[list(COLUMNS)].itertuples(index=False):
            here = on == "partners"
            names = headers if here else history_headers
            if kind == "duplicate":
                action = DUPLICATE_ACTION
            else:
                action = LEFT_OUT if leave and here else KEPT
            out.append(Record(sheet if here else history_sheet, index, names.get(metric, metric), value, problem,
                              action, partner=partner, canonical=metric, internal=True))
        return out


def detect(partners: pd.DataFrame, model: "ScoringModel | str" = "default", history: pd.DataFrame | None = None,
           *, as_of: "dt.date | str | None" = None) -> Anomalies:
    """Every anomaly among ``partners`` (one row per partner, canonical columns, index = sheet rows)
    and their ``history`` (monthly snapshots: partner_id, period, metric columns), by the model's
    ``anomalies`` settings. ``as_of`` (default today) dates the partners' months since onboarding start."""
    model = load_model(model)
    c = compile_model(model)
    settings = model.spec.anomalies
    as_of = to_date(as_of)
    table = PartnerTable(partners)
    ids = partner_ids(partners)
    values, usable = _usable(c, table)
    segment = membership(c, table).values[c.spec.segmentation.primary]
    months = _months(table, as_of)
    parts = [
        _outliers(c, settings, partners, ids, values, usable, segment),
        _rules(c, settings, partners, ids, values, usable, months),
    ]
    if settings.duplicates:
        parts.append(_duplicates(partners, ids))
    if history is not None and len(history) and {"partner_id", "period"} <= set(history.columns):
        parts.append(_changes(c, settings, partners, ids, values, usable, history))
    found = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()
    found = found.drop_duplicates(["sheet", "index", "metric"], keep="first")  # one record per cell
    order = {"partners": 0, "history": 1}
    found = found.assign(_sheet=found["sheet"].map(order)).sort_values(["_sheet", "index"], kind="stable")
    return Anomalies(found.drop(columns="_sheet").reset_index(drop=True), settings.action)


def robust_z(x: np.ndarray, groups: np.ndarray | None = None, min_group: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z, centre, scale)`` per element of ``x`` (NaN stays NaN): the distance from the median of its
    group in robust standard deviations. A group with fewer than ``min_group`` values is judged among
    all values; a scale of 0 (all values equal) gives z 0 for the equal ones and inf for any other."""
    frame = pd.DataFrame({"x": x, "g": 0 if groups is None else groups})
    grouped = frame.groupby("g", sort=False)["x"]
    count = grouped.transform("count").to_numpy()
    centre = grouped.transform("median").to_numpy()
    dev = np.abs(x - centre)
    by = frame.assign(d=dev).groupby("g", sort=False)["d"]
    scale = by.transform("median").to_numpy() * MAD_SCALE
    mean_ad = by.transform("mean").to_numpy() * MEAN_AD_SCALE
    small = count < min_group
    if small.any():
        all_centre = np.nanmedian(x)
        all_dev = np.abs(x - all_centre)
        centre = np.where(small, all_centre, centre)
        scale = np.where(small, np.nanmedian(all_dev) * MAD_SCALE, scale)
        mean_ad = np.where(small, np.nanmean(all_dev) * MEAN_AD_SCALE, mean_ad)
        dev = np.where(small, all_dev, dev)
    scale = np.where(scale > 0, scale, mean_ad)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(dev == 0, 0.0, (x - centre) / scale)
    return z, centre, scale


# ------------------------------------------------------------------ the checks


def _empty() -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(dtype=float if k in ("z",) else object) for k in COLUMNS})


def _usable(c: Compiled, table: PartnerTable) -> tuple[np.ndarray, np.ndarray]:
    """Metric values ``(M, n)`` and which are usable (present, readable, in range): only those are judged."""
    values, missing, invalid = extract(table, c.metric_ids, c.lookups)
    with np.errstate(invalid="ignore"):
        usable = ~missing & ~invalid & (values >= c.valid_lo[:, None]) & (values <= c.valid_hi[:, None])
    return values, usable


def _numeric(c: Compiled) -> list[int]:
    return [j for j, k in enumerate(c.kind) if k in (KIND_LINEAR, KIND_LOG, KIND_PIECEWISE)]


def _logged(c: Compiled, j: int) -> bool:
    """Whether metric ``j`` is judged on the log scale, where a distance is a ratio: counts, money, hours
    and other open-ended non-negative quantities -- log normalisation, a linear one whose valid range
    starts at 0 and reaches past :data:`OPEN_ENDED` x its floor and target, or piecewise points from 0
    up spanning more than two orders of magnitude. On that scale 0 is a state (nothing yet), not a
    distance: zeros, and changes from or to 0, are not judged."""
    points = c.piecewise.get(j)
    if points is not None:
        return bool(points[0][0] >= 0 and points[0][-1] > 100 * max(points[0][1], 1))
    if c.kind[j] == KIND_LOG:
        return True
    top = max(abs(c.floor[j]), abs(c.target[j]))
    return bool(c.kind[j] == KIND_LINEAR and c.valid_lo[j] >= 0 and np.isfinite(c.valid_hi[j])
                and c.valid_hi[j] >= OPEN_ENDED * top > 0)


def _least_spread(c: Compiled, j: int) -> float:
    """The smallest spread of changes a jump is judged against: a 50% change on the log scale, else
    10% of the normalisation's floor-to-target distance. A metric that hardly ever changes (assessed
    once) would otherwise make any re-measurement a jump."""
    if _logged(c, j):
        return LEAST_RATIO
    points = c.piecewise.get(j)
    span = (points[0][-1] - points[0][0]) if points is not None else abs(c.target[j] - c.floor[j])
    return LEAST_SHARE * span


def _scale(c: Compiled, j: int, values: np.ndarray) -> np.ndarray:
    """Values on the scale distances are judged on: log1p for :func:`_logged` metrics, else as they are."""
    if _logged(c, j):
        with np.errstate(invalid="ignore"):
            return np.log1p(np.maximum(values, 0.0))
    return values


def _unscale(c: Compiled, j: int, value: float) -> float:
    return float(np.expm1(value)) if _logged(c, j) else float(value)


def _months(table: PartnerTable, as_of: dt.date) -> np.ndarray:
    if "onboarding_start" not in table:
        return np.full(table.n, np.nan)
    starts = cells.plausible_dates(table.dates("onboarding_start", cells.dates))
    return months_between(starts, np.datetime64(as_of, "D"))


def _cells(frame: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray:
    return frame[column].to_numpy(dtype=object)[rows] if column in frame.columns else np.full(len(rows), None)


def partner_ids(frame: pd.DataFrame) -> np.ndarray:
    """Partner IDs as trimmed text, None where blank (text columns trimmed in one pass; anything else,
    such as IDs typed as numbers, read by :func:`scoring.cells.text`)."""
    if "partner_id" not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    codes, uniques = pd.factorize(frame["partner_id"], use_na_sentinel=True)
    if pd.api.types.infer_dtype(uniques, skipna=True) == "string":  # the usual case: trim each distinct ID once
        trimmed = np.array([u.strip() or None for u in np.asarray(uniques, dtype=object)] + [None], dtype=object)
        return trimmed[codes]
    return cells.per_unique(frame["partner_id"].to_numpy(dtype=object), lambda v: cells.text(v)[0])


def _frame(kind: str, sheet: str, index, partner, metric, value, z, problem) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "sheet": sheet, "index": index, "partner_id": partner, "metric": metric,
                         "value": value, "z": z, "problem": problem})


def _outliers(c: Compiled, s: AnomalySettings, partners: pd.DataFrame, ids: np.ndarray, values: np.ndarray,
              usable: np.ndarray,
              segment: np.ndarray) -> pd.DataFrame:
    """Values more than ``outlier_threshold`` robust z-scores from the median of their segment."""
    codes, names = pd.factorize(pd.Series(segment, dtype=object).fillna("(no segment)"))
    index = np.asarray(partners.index)
    parts = []
    for j in _numeric(c):
        judged = usable[j] & ~(_logged(c, j) & (values[j] <= 0))
        if judged.sum() < s.min_group:
            continue
        x = np.where(judged, _scale(c, j, values[j]), np.nan)
        z, centre, _ = robust_z(x, codes, s.min_group)
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero(np.abs(z) >= s.outlier_threshold)
        if not len(rows):
            continue
        counts = np.bincount(codes[judged], minlength=len(names))
        label = c.labels[j]
        problems = [
            f"{label} {_fmt(values[j, r])} is {'far above' if z[r] > 0 else 'far below'} the median "
            f"{_fmt(_unscale(c, j, centre[r]))} of {_group(names[codes[r]], counts[codes[r]], s.min_group)} "
            f"({abs(z[r]):.1f} robust standard deviations; the model flags {s.outlier_threshold:g})"
            for r in rows]
        parts.append(_frame("outlier", "partners", index[rows], ids[rows], c.metric_ids[j],
                            _cells(partners, c.metric_ids[j], rows), z[rows], problems))
    return pd.concat(parts, ignore_index=True) if parts else _empty()


def _group(name: str, count: int, min_group: int) -> str:
    return f"{name} partners" if count >= min_group else "all partners"


def _rules(c: Compiled, s: AnomalySettings, partners: pd.DataFrame, ids: np.ndarray, values: np.ndarray,
           usable: np.ndarray,
           months: np.ndarray) -> pd.DataFrame:
    """Partners whose values break an impossible-combination rule."""
    position = {m: j for j, m in enumerate(c.metric_ids)}
    rules = s.impossible if s.impossible is not None else [
        r for r in BUILT_IN_RULES if all(p.left in position and (not isinstance(p.right, str) or p.right in position)
                                         for p in r.all)]
    index = np.asarray(partners.index)
    labels = dict(zip(c.metric_ids, c.labels))
    parts = []
    for rule in rules:
        hit = np.ones(len(index), dtype=bool)
        for part in rule.all:
            j = position[part.left]
            right = values[position[part.right]] if isinstance(part.right, str) else float(part.right)
            ok = usable[j] & (usable[position[part.right]] if isinstance(part.right, str) else True)
            with np.errstate(invalid="ignore"):
                hit &= ok & _OPS[part.op](values[j], right)
        if rule.max_months is not None:
            with np.errstate(invalid="ignore"):
                hit &= months <= rule.max_months
        rows = np.flatnonzero(hit)
        if not len(rows):
            continue
        first = rule.all[0].left
        within = f" within {rule.max_months:g} months of onboarding start" if rule.max_months is not None else ""
        problems = []
        for r in rows:
            said = " and ".join(
                f"{labels[p.left]} {_fmt(values[position[p.left], r])} {p.op} "
                + (f"{labels[p.right]} {_fmt(values[position[p.right], r])}" if isinstance(p.right, str)
                   else _fmt(float(p.right)))
                for p in rule.all)
            problems.append(f"impossible combination: {said}{within} ({rule.reason})")
        parts.append(_frame("impossible", "partners", index[rows], ids[rows], first, _cells(partners, first, rows),
                            np.nan, problems))
    return pd.concat(parts, ignore_index=True) if parts else _empty()


def name_key(name: object) -> str:
    """A company name as compared for duplicates: case, accents, punctuation and legal suffixes ignored."""
    text = cells.text(name)[0]
    if not text:
        return ""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = re.sub(r"[^\w]+", " ", plain)
    return " ".join(_LEGAL.sub(" ", plain).split())


def _duplicates(partners: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """Rows sharing a name and a country (or region) under different partner IDs: one finding per row."""
    if "partner_name" not in partners.columns or "partner_id" not in partners.columns:
        return _empty()
    place = "country" if "country" in partners.columns and partners["country"].notna().any() else "region"
    if place not in partners.columns:
        return _empty()
    names = cells.per_unique(partners["partner_name"].to_numpy(dtype=object), name_key, null="")
    where = cells.per_unique(partners[place].to_numpy(dtype=object), lambda v: cells.category_key(v), null="")
    frame = pd.DataFrame({"name": names, "where": where, "id": ids, "pos": np.arange(len(partners))})
    frame = frame[(frame["name"] != "") & (frame["where"] != "") & frame["id"].notna()]
    distinct = frame.groupby(["name", "where"])["id"].transform("nunique")
    frame = frame[distinct > 1]
    if frame.empty:
        return _empty()
    index = np.asarray(partners.index)
    problems = []
    for _, group in frame.groupby(["name", "where"], sort=False):
        for pos, pid in zip(group["pos"], group["id"]):
            others = [f"{o} (row {index[p]})" for p, o in zip(group["pos"], group["id"]) if o != pid]
            problems.append((pos, f"same name and {place} as {', '.join(others)} under another ID: possibly one "
                                  f"partner recorded twice"))
    rows = np.array([p for p, _ in problems], dtype=np.int64)
    return _frame("duplicate", "partners", index[rows], ids[rows], "partner_name",
                  _cells(partners, "partner_name", rows), np.nan, [t for _, t in problems])


def _changes(c: Compiled, s: AnomalySettings, partners: pd.DataFrame, partner_id: np.ndarray, current: np.ndarray,
             usable_now: np.ndarray,
             history: pd.DataFrame) -> pd.DataFrame:
    """Jumps and possible gaming between consecutive History snapshots of each partner.

    A finding in a partner's latest snapshot whose value the Partners sheet holds too is about today's
    value: it is recorded on the Partners cell (where leaving it out changes the score)."""
    ids = partner_ids(history)
    periods = PartnerTable(history).dates("period", cells.dates)
    keep = (ids != None) & ~np.isnat(periods)  # noqa: E711 (element-wise)
    if not keep.any():
        return _empty()
    codes = pd.factorize(ids)[0]
    order = np.lexsort((periods, codes))
    order = order[keep[order]]  # row positions by partner, then period; rows without either left out
    values, usable = _usable(c, PartnerTable(history))  # everything stays in the sheet's row order
    sorted_steps = _Steps(codes[order])

    def steps(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to, frm = sorted_steps(present[order])
        return order[to], order[frm]

    pid_code = codes
    latest = np.zeros(len(history), dtype=bool)
    latest[order] = np.r_[codes[order][1:] != codes[order][:-1], True]
    n = len(history)
    sources = [m_.source.casefold() for m_ in c.spec.metrics]
    reported = [j for j in range(len(sources)) if sources[j] in {x.casefold() for x in s.self_reported}]
    independent = [j for j in range(len(sources)) if sources[j] in {x.casefold() for x in s.independent}]
    # rises of sub-scores: self-reported metrics kept, independent ones summed per snapshot
    rises, total, counted = {}, np.zeros(n), np.zeros(n, dtype=np.int32)
    for j in sorted(set(reported) | set(independent)):
        to, frm = steps(usable[j])
        points = _points(c, j, values[j])
        rise = points[to] - points[frm]
        if j in reported:
            rises[j] = (to, frm, rise)
        if j in independent:
            total[to] += rise
            counted[to] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        backed = np.where(counted > 0, total / np.maximum(counted, 1), np.nan)
    partner_row = _partner_rows(partner_id)
    index = np.asarray(history.index)
    labels = c.labels
    found_by = {}
    for j, (to, frm, rise) in rises.items():
        hit = (rise >= s.gaming_points) & (counted[to] > 0) & ~(backed[to] >= s.corroboration)
        rows, before = to[hit], frm[hit]
        if len(rows):
            problems = [f"possible gaming: {labels[j]}, reported by the partner ({c.spec.metrics[j].source}), rose "
                        f"from {_fmt(values[j, f])} to {_fmt(values[j, r])} ({_month(periods[f])} to "
                        f"{_month(periods[r])}), {up:+.0f} sub-score points, while its "
                        f"{' and '.join(s.independent)} metrics moved {backed[r]:+.1f} points on average (the model "
                        f"flags a rise of {s.gaming_points:g} or more that they do not follow by "
                        f"{s.corroboration:g})" for f, r, up in zip(before, rows, rise[hit])]
            found_by[("gaming", j)] = (rows, problems, rise[hit])
    for j in _numeric(c):
        to, frm = steps(usable[j] & ~(_logged(c, j) & (values[j] <= 0)))
        if len(to) < 2:
            continue
        x = _scale(c, j, values[j])
        d = x[to] - x[frm]
        centre = float(np.median(d))
        d -= centre
        z = _jump_z(d, pid_code[to], max(_spread(d), _least_spread(c, j)), s.jump_threshold)
        hit = np.abs(z) >= s.jump_threshold
        if ("gaming", j) in found_by:
            hit &= ~np.isin(to, found_by[("gaming", j)][0])
        rows, before, z = to[hit], frm[hit], z[hit]
        if len(rows):
            problems = [f"{labels[j]} changed from {_fmt(values[j, f])} to {_fmt(values[j, r])} ({_month(periods[f])} "
                        f"to {_month(periods[r])}): {abs(zz):.1f} robust standard deviations from its usual change "
                        f"between snapshots (the model flags {s.jump_threshold:g})" for f, r, zz in zip(before, rows, z)]
            found_by[("jump", j)] = (rows, problems, z)
    parts = []
    for (kind, j), (rows, problems, zz) in found_by.items():
        found = _frame(kind, "history", index[rows], ids[rows], c.metric_ids[j],
                       _cells(history, c.metric_ids[j], rows), zz, problems)
        on_partners = _today(found, rows, latest, partner_row, j, c, values, current, usable_now)
        found.loc[on_partners >= 0, "sheet"] = "partners"
        found.loc[on_partners >= 0, "index"] = np.asarray(partners.index)[on_partners[on_partners >= 0]]
        parts.append(found)
    return pd.concat(parts, ignore_index=True) if parts else _empty()


class _Steps:
    """``(to, from)`` row positions of each change between consecutive present values of one partner
    (rows sorted by partner, then period); the steps of a metric present in every row are shared."""

    def __init__(self, pid_code: np.ndarray):
        self.pid_code = pid_code
        same = pid_code[1:] == pid_code[:-1]
        every = np.arange(len(pid_code))
        self.full = every[1:][same], every[:-1][same]

    def __call__(self, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if present.all():
            return self.full
        at = np.flatnonzero(present)
        same = self.pid_code[at[1:]] == self.pid_code[at[:-1]]
        return at[1:][same], at[:-1][same]


def _jump_z(d: np.ndarray, partner: np.ndarray, spread: float, threshold: float) -> np.ndarray:
    """Robust z of centred changes ``d``: over the metric's spread, or the partner's own spread of its
    non-zero changes where that is wider (and it has :data:`OWN_CHANGES` of them). Only partners with a
    change beyond ``threshold`` on the metric's spread can be spared by their own, so only theirs is computed."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(d == 0, 0.0, d / spread)
    suspects = np.abs(z) >= threshold
    if not suspects.any():
        return z
    mine = np.isin(partner, np.unique(partner[suspects]))
    own = _own_spread(partner[mine], d[mine])
    with np.errstate(invalid="ignore", divide="ignore"):
        z[mine] = np.where(d[mine] == 0, 0.0, d[mine] / np.maximum(spread, own))
    return z


def _points(c: Compiled, j: int, values: np.ndarray) -> np.ndarray:
    """Metric ``j``'s sub-scores (0-100) on the model's base normalisation, without segment overrides:
    one scale for a survey, a day count and a certification level."""
    scaled = values.copy()
    if c.log_columns[j]:
        with np.errstate(invalid="ignore"):
            scaled = np.log1p(np.maximum(scaled, 0.0))
    if j in c.piecewise:
        return piecewise(scaled, c.piecewise[j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return linear(scaled, c.floor[j], c.target[j])


def _spread(d: np.ndarray) -> float:
    """Robust standard deviation of centred changes, over the changes that are not 0: a metric that
    mostly stays put (a quarterly survey) is judged by the size of its changes when it does change.
    A metric that changes in fewer than :data:`RARE_CHANGES` of snapshots has no usual change to judge
    by (0 here: :func:`_least_spread` applies)."""
    moved = np.abs(d[d != 0])
    if len(moved) < RARE_CHANGES * len(d):
        return 0.0
    mad = float(np.median(moved)) * MAD_SCALE
    return mad if mad > 0 else float(np.mean(moved)) * MEAN_AD_SCALE


def _own_spread(code: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Each change's partner's own robust spread of its non-zero changes (0 with fewer than
    :data:`OWN_CHANGES` of them)."""
    moved = d != 0
    frame = pd.DataFrame({"g": code[moved], "a": np.abs(d[moved])})
    grouped = frame.groupby("g", sort=False)["a"]
    spread = (grouped.median() * MAD_SCALE).where(grouped.count() >= OWN_CHANGES, 0.0)
    return spread.reindex(code, fill_value=0.0).to_numpy()


def _partner_rows(ids: np.ndarray) -> dict:
    """Partner ID -> position of its first Partners row (the one scoring matches)."""
    out: dict = {}
    for pos, pid in enumerate(ids):
        if pid is not None:
            out.setdefault(pid, pos)
    return out


def _today(found: pd.DataFrame, rows: np.ndarray, latest: np.ndarray, partner_row: dict, j: int, c: Compiled,
           history_values: np.ndarray, current: np.ndarray, usable_now: np.ndarray) -> np.ndarray:
    """Per finding: the Partners row position it is about when it is the partner's latest snapshot and
    that row holds the same value; -1 otherwise."""
    out = np.full(len(rows), -1, dtype=np.int64)
    for k, (r, pid) in enumerate(zip(rows, found["partner_id"])):
        pos = partner_row.get(pid)
        if latest[r] and pos is not None and usable_now[j, pos] and current[j, pos] == history_values[j, r]:
            out[k] = pos
    return out


def _month(day: np.datetime64) -> str:
    return f"{pd.Timestamp(day):%b %Y}"


def _fmt(value: float) -> str:
    """A value as a sentence shows it: whole numbers with thousands separators, else 3 significant digits."""
    value = float(value)
    if np.isnan(value):
        return "blank"
    if value == round(value) and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
