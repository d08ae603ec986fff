"""PDF reports from scored partners: what each scorecard says (card), its charts, rendering, batches
and the batch job the CLI and the Excel macro run. Builds on :mod:`scoring` alone."""
