"""The spreadsheet side of pscore: workbook reading and writing, the ``pscore`` CLI, and (later) xlwings UDFs.

Thin adapters only: they convert workbook data to frames, call :mod:`scoring`, and convert back.
"""
