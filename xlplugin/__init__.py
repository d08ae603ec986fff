"""The spreadsheet side of pscore: workbook reading and writing, the ``pscore`` CLI, and the xlwings
add-in (Excel functions and macros).

Thin adapters only: they convert workbook data to frames, call :mod:`scoring`, and convert back.
"""
