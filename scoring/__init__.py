"""pscore's scoring core: the model file, the vectorised scorecard (scores, tiers, drivers, actions),
calibration on past cohorts and synthetic data to try it all on.

Pure Python + pandas. Everything else in the product (workbooks, UDFs, PDFs) calls this package and
never re-computes a score, tier, driver or action itself.
"""

from scoring.engine import ScoreResult, score
from scoring.model.load import ModelError, ScoringModel, load_model

__all__ = ["ModelError", "ScoreResult", "ScoringModel", "load_model", "score"]
