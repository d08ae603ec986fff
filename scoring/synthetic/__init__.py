"""Synthetic partner data drawn from a documented latent process, for demos, tutorials, tests and
benchmarks: real partner data is confidential, and data with a known truth lets any analysis be checked.

:func:`generate` returns every sheet of a demo workbook as a frame (writing it is the workbook
adapter's job); the process is described in docs/demo-data.md.
"""

from scoring.synthetic.about import about_lines
from scoring.synthetic.experiment import COACHING, EXPERIMENT, EXPERIMENT_SHARE, TREATMENT_EFFECT
from scoring.synthetic.metrics import METRICS
from scoring.synthetic.milestones import MILESTONES
from scoring.synthetic.people import PARTNER_TYPES, REGIONS
from scoring.synthetic.population import DemoData, generate

__all__ = [
    "COACHING", "EXPERIMENT", "EXPERIMENT_SHARE", "METRICS", "MILESTONES", "PARTNER_TYPES", "REGIONS",
    "TREATMENT_EFFECT", "DemoData", "about_lines", "generate",
]
