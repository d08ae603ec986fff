"""pscore scoring core: model file, vectorised scorecard, drivers, actions.

Pure Python + pandas. Everything else in the product (workbooks, UDFs, PDFs) calls this package and
never re-computes a score, tier, driver or action itself.
"""

from scoring.engine import ScoreResult, score
from scoring.model.load import ModelError, ScoringModel, load_model

__all__ = ["ModelError", "ScoreResult", "ScoringModel", "load_model", "score"]
