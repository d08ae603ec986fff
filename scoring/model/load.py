"""Loading, validating and fingerprinting scoring model files.

A model is referenced by name (``default``: shipped with the package) or by path. Loading is cached
by file content, so a UDF that names the same model on every recalculation parses it once per
process. Every problem in a file is reported at once, as ``path: problem (line N)``.

A model file is bounded before it is trusted: at most :data:`MAX_FILE_BYTES` of UTF-8 text, nested
at most :data:`MAX_DEPTH` levels, every number finite; the schema bounds weights and list lengths.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scoring.model import checks as model_checks
from scoring.model.schema import ModelSpec

__all__ = ["ModelError", "ScoringModel", "content_hash", "from_dict", "load_model", "parse_model"]

BUILTIN = ("default",)
#: A model file is a few dozen KB (the shipped one: 21 KB); a calibration adds a few more.
MAX_FILE_BYTES = 1024 * 1024
#: Sections, lists and mappings nest about eight levels deep in a model file.
MAX_DEPTH = 20
#: Top-level fields that name and document a model version but do not change any output for a
#: partner; the content hash leaves them out.
IDENTITY_FIELDS = frozenset({"name", "version", "effective_date", "description", "changelog"})
#: libyaml's parser when PyYAML was built with it (ten times faster), else PyYAML's own.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ModelError(ValueError):
    """A model file that cannot be used; ``problems`` lists each one as ``path: message``."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        detail = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: invalid model ({len(problems)} problem{'s' * (len(problems) != 1)}):\n{detail}")


@dataclass(frozen=True)
class ScoringModel:
    """A validated model plus the fingerprint that every output carries."""

    spec: ModelSpec
    source: str
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", content_hash(self.spec))

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def label(self) -> str:
        """``name version (hash)``: what a score sheet, PDF footer or UDF prints."""
        return f"{self.spec.name} {self.spec.version} ({self.hash})"


def content_hash(spec: ModelSpec) -> str:
    """Short hash of what the model does to a partner: equal scorecards (weights, metrics, tiers,
    playbook, calibration ...) get equal hashes whatever the model is called or numbered.

    Comments, key order and spelling out a default value in the YAML do not change it (nor does a
    newer schema adding optional sections), nor do the :data:`IDENTITY_FIELDS`: a Model-sheet edit
    and the model version exported from it are the same scorecard.
    """
    data = spec.model_dump(mode="json", exclude_defaults=True, exclude=set(IDENTITY_FIELDS))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_model(ref: "str | Path | ScoringModel" = "default") -> ScoringModel:
    """Load a model by name (``default``) or path; raise :class:`ModelError` naming every problem."""
    if isinstance(ref, ScoringModel):
        return ref
    text, source = _read(ref)
    return _parse_cached(text, source)


def _read(ref: "str | Path") -> tuple[str, str]:
    if isinstance(ref, str) and ref in BUILTIN:
        return resources.files("scoring.model").joinpath(f"{ref}.yaml").read_text("utf-8"), ref
    path = Path(ref)
    if not path.is_file():
        hint = "" if path.suffix else f" (built-in models: {', '.join(BUILTIN)})"
        raise ModelError(str(ref), [f"no such model file{hint}"])
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # never more: the size on disk may change or lie
    except OSError as exc:
        raise ModelError(str(path), [f"cannot read the file ({exc.strerror or exc})"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ModelError(str(path), [_too_large()])
    try:
        return raw.decode("utf-8"), str(path)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ModelError(str(path), [f"not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line}; "
                                     "save the file with UTF-8 encoding"]) from None


def _too_large() -> str:
    return (f"the file is larger than {MAX_FILE_BYTES / 2**20:g} MB ({MAX_FILE_BYTES:,} bytes), the limit for a "
            "model file (see Limits in docs/model-file.md)")


@lru_cache(maxsize=32)
def _parse_cached(text: str, source: str) -> ScoringModel:
    return parse_model(text, source)


def parse_model(text: str, source: str = "<model>") -> ScoringModel:
    """Validate YAML text as a model; all structural and cross-reference problems are reported together."""
    if len(text) > MAX_FILE_BYTES:
        raise ModelError(source, [_too_large()])
    loader = _Loader(text)
    try:
        root = loader.get_single_node()  # the nodes carry the lines that problems point at
        deep = _too_deep(root)
        if deep is not None:
            raise ModelError(source, [f"nested more than {MAX_DEPTH} levels deep (line {deep.start_mark.line + 1}); "
                                      "a model file is a few levels of sections and lists"])
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ModelError(source, [f"not valid YAML: {getattr(exc, 'problem', exc)}{where}"]) from None
    except RecursionError:  # PyYAML's own parser (without libyaml) recurses per level
        raise ModelError(source, [f"nested more than {MAX_DEPTH} levels deep"]) from None
    finally:
        loader.dispose()
    return from_dict(data, source, root)


def _too_deep(root: yaml.Node | None) -> yaml.Node | None:
    """The first collection nested deeper than :data:`MAX_DEPTH`, if any (walked without recursion;
    a node reached again through an alias is walked once)."""
    stack, seen = [(root, 1)], set()
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, yaml.CollectionNode) or id(node) in seen:
            continue
        if depth > MAX_DEPTH:
            return node
        seen.add(id(node))
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
        stack.extend((child, depth + 1) for child in children)
    return None


def from_dict(data: Any, source: str = "<model>", root: yaml.Node | None = None) -> ScoringModel:
    """Validate an already-parsed model (e.g. the file plus workbook overrides)."""
    if not isinstance(data, dict):
        raise ModelError(source, ["the file must be a mapping of sections (name, version, metrics, ...)"])
    found = non_finite(data)
    if found:
        raise ModelError(source, [_with_line(path, msg, root) for path, msg in found])
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(err, data) for err in exc.errors()]
        raise ModelError(source, [_with_line(path, msg, root) for path, msg in problems]) from None
    found = model_checks.check(spec)
    if found:
        raise ModelError(source, [_with_line(path, msg, root) for path, msg in found])
    return ScoringModel(spec, source)


def non_finite(data: Any) -> list[tuple[tuple, str]]:
    """Every ``nan``/``inf`` number in ``data``, in file order, with its path.

    Checked before the schema, and wherever a number sits (in a union such as a rule's value, too):
    a ``.nan`` target silently drops a metric for everyone, an ``.inf`` one overflows the scorecard.
    """
    found: list[tuple[tuple, str]] = []
    stack: list[tuple[tuple, Any]] = [((), data)]
    seen: set[int] = set()
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            word = ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
            found.append((path, f"must be a finite number, not {word}"))
        elif isinstance(value, (dict, list)) and id(value) not in seen:
            seen.add(id(value))
            items = list(value.items() if isinstance(value, dict) else enumerate(value))
            stack.extend((path + (key,), item) for key, item in reversed(items))
    return found


def _pydantic_problem(err: Any, data: Any) -> tuple[tuple, str]:
    """Drop pydantic's union-branch names from the location and phrase the message for a model author."""
    path: list[str | int] = []
    node = data
    for part in err["loc"]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in _UNION_TAGS:
            continue  # pydantic's name for the union branch, not a key in the file
        else:
            node = None
        path.append(part)
    kind = err["type"]
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required"
    elif kind == "union_tag_invalid":
        message = f"unknown kind (use one of: {', '.join(_UNION_TAGS)})"
    else:
        message = err["msg"].removeprefix("Value error, ")
        if kind.startswith("literal_error"):
            message = message.replace("Input should be", "must be")
    return tuple(path), message


_UNION_TAGS = ("linear", "log", "ordinal", "boolean", "piecewise")


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _with_line(path: tuple, message: str, root: yaml.Node | None) -> str:
    line = _line_of(root, path)
    return f"{format_path(path)}: {message}" + (f" (line {line})" if line else "")


def _line_of(node: yaml.Node | None, path: tuple) -> int | None:
    """Line of the deepest YAML node on ``path`` that exists: where the author should look."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value if not isinstance(value, yaml.ScalarNode) else key
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
