"""Yardsticks a scorecard is measured against, on the same split and the same resamples.

* **Base rate**: everyone gets the training cohorts' engagement rate and mean revenue. A scorecard
  whose probabilities do not beat it has learnt nothing a manager did not already know.
* **One-hot logistic regression** on the raw columns: what a data scientist fits in ten minutes
  (categories one-hot encoded, numbers standardised with a missing-value indicator, segment
  columns one-hot; ridge regression on log(1 + revenue) for revenue).
* **Gradient boosting** on the same inputs: the black box, which says how much accuracy, if any,
  transparency costs.

Nothing they learn reaches a score. Their inputs are the metrics :mod:`scoring.calibration.observed`
finds usable, so an all-empty column (a metric recorded only for newer cohorts) never reaches a
library that would fail on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scoring.calibration.errors import step
from scoring.calibration.observed import Observed
from scoring.compiled import KIND_ORDINAL, Compiled

SEED = 0
_ADVICE = "a reference model only; check the metrics named as not calibrated, or add partners with outcomes"

#: Per model, on the test partners: P(engaged), expected revenue and its interval (low, high) if it has one.
Predictions = tuple[np.ndarray, np.ndarray, "np.ndarray | None", "np.ndarray | None"]


def features(c: Compiled, observed: Observed) -> tuple[np.ndarray, np.ndarray]:
    """Usable metric values (ordinals as category codes) and one code per segmentation column
    (NaN for a value the model does not know); returns the matrix and which columns are categorical."""
    keep = np.flatnonzero(observed.usable)
    columns = [observed.values[keep].T]
    categorical = [c.kind[j] == KIND_ORDINAL for j in keep]
    for dim, known in c.spec.segmentation.dimensions.items():
        codes = {v: float(k) for k, v in enumerate(known)}
        columns.append(np.array([[codes.get(v, np.nan)] for v in observed.segments[dim]]))
        categorical.append(True)
    return np.hstack(columns), np.array(categorical, dtype=bool)


def base_rate(train: np.ndarray, engaged: np.ndarray, revenue: np.ndarray) -> Predictions:
    """The training cohorts' engagement rate and mean revenue, for every test partner."""
    n = int((~train).sum())
    return np.full(n, engaged[train].mean()), np.full(n, revenue[train].mean()), None, None


def boosted(x: np.ndarray, categorical: np.ndarray, train: np.ndarray, engaged: np.ndarray,
            revenue: np.ndarray) -> Predictions:
    """Gradient boosting fitted on ``train``: P(engaged) and expected revenue for the other rows.

    Revenue uses a Poisson loss: it predicts a mean, copes with zeros and is the usual choice for
    amounts; early stopping on a fixed internal split keeps small samples from overfitting.
    """
    common = dict(categorical_features=categorical, early_stopping=True, random_state=SEED)
    with step("gradient boosting (reference model)", _ADVICE):
        classifier = HistGradientBoostingClassifier(**common).fit(x[train], engaged[train])
        regressor = HistGradientBoostingRegressor(loss="poisson", **common).fit(x[train], revenue[train])
        return classifier.predict_proba(x[~train])[:, 1], regressor.predict(x[~train]), None, None


def one_hot(x: np.ndarray, categorical: np.ndarray, train: np.ndarray, engaged: np.ndarray,
            revenue: np.ndarray) -> Predictions:
    """One-hot logistic regression (engagement) and ridge regression on log(1 + revenue), fitted on ``train``."""
    cats, nums = np.flatnonzero(categorical), np.flatnonzero(~categorical)
    frame = pd.DataFrame({f"c{k}": pd.Series(x[:, k]).map(lambda v: "blank" if np.isnan(v) else f"{v:g}")
                          for k in cats})
    for k in nums:
        frame[f"n{k}"] = x[:, k]
    parts = [("categories", OneHotEncoder(handle_unknown="ignore"), [f"c{k}" for k in cats])]
    if len(nums):
        parts.append(("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                                             keep_empty_features=True), StandardScaler()),
                      [f"n{k}" for k in nums]))
    with step("one-hot logistic regression (reference model)", _ADVICE):
        classifier = make_pipeline(ColumnTransformer(parts), LogisticRegression(C=1.0, max_iter=2000))
        classifier.fit(frame[train], engaged[train])
        regressor = make_pipeline(ColumnTransformer(parts), Ridge(alpha=1.0))
        regressor.fit(frame[train], np.log1p(revenue[train]))
        expected = np.expm1(np.clip(regressor.predict(frame[~train]), 0.0, 50.0))
        return classifier.predict_proba(frame[~train])[:, 1], expected, None, None
