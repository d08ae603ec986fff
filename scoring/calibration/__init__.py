"""Calibration: turn scores into predicted engagement and revenue, learnt from past cohorts.

Cohort building, the score-to-outcome maps, their application to new partners, the back-test and
its peers, and suggested weights.
"""
