"""Controlled experiments on partners: plan the sample, assign arms, read out the effect.

Programmes of 50 to 50,000 partners run experiments on small samples, so every read-out says how
sure it is: Welch and bootstrap intervals, a randomisation-inference p-value (exact for small
arms), a CUPED estimate that uses pre-period scores to narrow the interval, difference-in-differences
on score trajectories, the minimum detectable effect at the sample size, and a plain verdict.

- :mod:`scoring.experiments.power`: sample size and minimum detectable effect (``pscore experiment plan``);
- :mod:`scoring.experiments.assign`: stratified, seeded assignment and its balance table;
- :mod:`scoring.experiments.stats`: the estimators, on plain arrays;
- :mod:`scoring.experiments.analyze`: an experiment's outcomes gathered from the workbook's sheets and read out.
"""

from scoring.experiments.analyze import Analysis, analyze
from scoring.experiments.assign import Assignment, assign, balance
from scoring.experiments.power import Plan, plan

__all__ = ["Analysis", "Assignment", "Plan", "analyze", "assign", "balance", "plan"]
