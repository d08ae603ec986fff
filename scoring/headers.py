"""How a column header names a column: ``Training Completion %``, ``training completion`` and
``training_completion`` are the same column, wherever a table comes from."""

from __future__ import annotations

import re

__all__ = ["header_key"]


def header_key(text: object) -> str:
    """``"Training Completion %"`` -> ``"training_completion"``: case, spacing, punctuation and units ignored."""
    words = re.sub(r"\(.*?\)|\[.*?\]|%|#|\$|€|£", " ", str(text)).strip().casefold()
    return re.sub(r"[^0-9a-z]+", "_", words).strip("_")
