"""Workbooks without Excel: reading partner sheets as people keep them, and writing pscore's sheets
(Scores, Data quality, Model, Dashboard) into a copy of the user's workbook.

Also the other workbooks pscore reads or writes: the demo workbook, calibration's past cohorts and
report, and the tables a batch of PDF scorecards draws on.
"""
