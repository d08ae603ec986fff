"""The black-box reference: gradient boosting on the same inputs as the scorecard.

A data scientist asked to predict engagement and revenue from onboarding data would fit a
gradient-boosted model on the raw metric values and segments. Comparing the transparent scorecard
with that model on the same back-test says how much accuracy, if any, transparency costs. It is a
yardstick only: nothing it learns reaches a score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from scoring.compiled import Compiled
from scoring.cells import category_key
from scoring.normalize import extract
from scoring.table import PartnerTable

SEED = 0


def features(c: Compiled, partners: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Raw metric values (booleans 0/1, ordinals their mapped score, unreadable cells NaN) and one
    code per segmentation column; returns the matrix and which columns are categorical."""
    values, _, _ = extract(PartnerTable(partners.reset_index(drop=True)), c.metric_ids, c.lookups)
    columns = [values.T]
    for dim, known in c.spec.segmentation.dimensions.items():
        codes = {category_key(v): float(k) for k, v in enumerate(known)}
        cells = partners[dim] if dim in partners else pd.Series([None] * len(partners))
        columns.append(np.array([[codes.get(category_key(v), np.nan)] for v in cells]))
    x = np.hstack(columns)
    categorical = np.arange(x.shape[1]) >= len(c.metric_ids)
    return x, categorical


def fit_predict(x: np.ndarray, categorical: np.ndarray, train: np.ndarray, engaged: np.ndarray,
                revenue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(engaged) and expected revenue for the rows outside ``train``, from models fitted on ``train``.

    Revenue uses a Poisson loss: it predicts a mean, copes with zeros and is the usual choice for
    amounts; early stopping on a fixed internal split keeps small samples from overfitting.
    """
    common = dict(categorical_features=categorical, early_stopping=True, random_state=SEED)
    classifier = HistGradientBoostingClassifier(**common).fit(x[train], engaged[train])
    regressor = HistGradientBoostingRegressor(loss="poisson", **common).fit(x[train], revenue[train])
    return classifier.predict_proba(x[~train])[:, 1], regressor.predict(x[~train])
