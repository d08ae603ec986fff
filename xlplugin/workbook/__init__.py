"""Workbooks without Excel: reading partner sheets as people keep them, and writing pscore's sheets
(Scores, Data quality, Model, Dashboard) into a copy of the user's workbook.
"""
