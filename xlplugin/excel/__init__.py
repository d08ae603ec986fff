"""The Excel add-in (xlwings): worksheet functions, macros, argument conversion and ``pscore excel init``."""
