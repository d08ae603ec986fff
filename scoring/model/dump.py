"""Writing a validated model back to YAML, e.g. after calibration or workbook edits.

The text is plain, ordered like the shipped model and loads back to the same content hash, so a
saved model is exactly the model that was validated.
"""

from __future__ import annotations

import yaml

from scoring.model.schema import ModelSpec

__all__ = ["dump_model"]


class _Dumper(yaml.SafeDumper):
    """Block style, keys in schema order, long text folded for reading."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = ">" if len(value) > 100 and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_model(spec: ModelSpec, header: str = "") -> str:
    """YAML text for ``spec``; ``header`` lines become comments at the top."""
    body = yaml.dump(spec.model_dump(mode="json"), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + body
