"""Task specs: a prompt, test cases, a scorer and an acceptance rule (YAML or JSON).

Errors name the file, the line and the key; a variable the prompt uses but a case lacks
names the case. A cases file is read only from the spec's own folder (unless the caller
allows outside paths), never from a device, and never past a size limit; a python scorer is
loaded from the spec's folder (an installed package only when the caller allows it).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import MODES, OBJECTIVES
from .errors import InputError
from .files import FileProblem, check_text, inside, is_json_name, parse, parse_with_lines, read_text, shown
from .prompt import Prompt, drop_final_newline
from .score import BUILTINS, Scorer, make_scorer
from .tokens import DEFAULT_TARGET, check_target

KEYS = (
    "name",
    "description",
    "mode",
    "prompt",
    "messages",
    "max_tokens",
    "stop",
    "cases",
    "scorer",
    "scorer_params",
    "labels",
    "tolerance",
    "rel_tolerance",
    "pattern",
    "required_keys",
    "schema",
    "case_sensitive",
    "accept",
    "objective",
    "target",
    "region",
    "seed",
)
ACCEPT_KEYS = ("max_drop", "min_score", "confidence", "holdout")
CASE_SUFFIXES = (".jsonl", ".json", ".csv")
MAX_SPEC_BYTES = 16_000_000
MAX_CASES_BYTES = 64_000_000
MAX_OUTPUT_TOKENS = 131_072  # no model writes more in one answer; a larger cap is a typo
MAX_SEED = 2**32 - 1  # llama.cpp's seed is 32 bits


@dataclass(frozen=True)
class Case:
    id: str
    vars: Mapping[str, Any]
    expected: Any = None


@dataclass(frozen=True)
class Accept:
    max_drop: float = 0.02
    min_score: float = 0.0
    confidence: float = 0.95
    holdout: float = 0.3  # share of the cases held back from the search to confirm the winner


@dataclass(frozen=True)
class Spec:
    name: str
    prompt: Prompt
    mode: str
    max_tokens: int
    cases: tuple[Case, ...]
    scorer: Scorer
    accept: Accept = field(default_factory=Accept)
    objective: str = "energy"
    target: str = DEFAULT_TARGET
    region: str | None = None
    stop: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    seed: int = 0
    description: str = ""
    path: Path | None = None
    source: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the parsed file, for rewriting
    inputs: tuple[Path, ...] = ()  # every file it was read from (itself, its cases, its scorer): never overwritten


class _Where:
    """Turns a key into 'file:line: key' for error messages."""

    def __init__(self, path: Path, text: str, lines: Mapping[str, int]):
        self.path, self.text, self.lines = path, text, lines

    def __call__(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}: {key}" if line else f"{self.path}: {key}"

    def error(self, key: str, message: str) -> InputError:
        return InputError(f"{self(key)}: {message}")


def load_spec(path: str | Path, *, allow_outside: bool = False, allow_python_scorer: bool = False) -> Spec:
    """Read and check a task spec; every problem is an InputError naming file, line and key.

    `allow_outside` lets `cases:` name a file outside the spec's folder; `allow_python_scorer`
    lets `scorer: python:...` import an installed package (a module beside the spec always can)."""
    path = Path(path)
    try:
        text = read_text(path, limit=MAX_SPEC_BYTES, fix="a spec is a small YAML or JSON file")
    except FileProblem:
        if not path.exists():
            raise InputError(f"{shown(path)}: no such spec file: check the path") from None
        raise
    data, lines = parse_with_lines(text, shown(path), as_json=is_json_name(path), unique_keys=True)
    if not isinstance(data, dict):
        raise InputError(f"{shown(path)}: a spec is a mapping of keys (name, prompt, cases, scorer, ...)")
    where = _Where(Path(shown(path)), text, lines)
    return spec_from_dict(
        data, path=path, where=where, allow_outside=allow_outside, allow_python_scorer=allow_python_scorer
    )


def spec_from_dict(
    data: Mapping[str, Any],
    *,
    path: Path | None = None,
    where: _Where | None = None,
    allow_outside: bool = False,
    allow_python_scorer: bool = False,
) -> Spec:
    where = where or _Where(path or Path("<spec>"), "", {})
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise where.error(shown(unknown[0]), f"unknown key: use one of {', '.join(KEYS)}")
    mode = data.get("mode", "chat")
    if mode not in MODES:
        raise where.error("mode", f"{shown(repr(mode))} is not a mode: use completion or chat")
    prompt = _prompt(data, mode, where)
    base = path.parent if path else Path.cwd()
    scorer = _scorer(data, base, allow_python_scorer, where)
    cases, cases_file = _cases(data.get("cases"), base, where, allow_outside)
    _check_cases(prompt, cases, scorer, where)
    objective = data.get("objective", "energy")
    if objective not in OBJECTIVES:
        raise where.error(
            "objective", f"{shown(repr(objective))} is not an objective: use one of {', '.join(OBJECTIVES)}"
        )
    inputs = (path, cases_file, Path(scorer.source) if scorer.source else None)
    return Spec(
        name=str(data.get("name") or (path.stem if path else "task")),
        description=str(data.get("description") or ""),
        prompt=prompt,
        mode=mode,
        max_tokens=_positive_int(data.get("max_tokens", 256), "max_tokens", where, maximum=MAX_OUTPUT_TOKENS),
        cases=cases,
        scorer=scorer,
        accept=_accept(data.get("accept") or {}, where),
        objective=objective,
        target=_target(data.get("target", DEFAULT_TARGET), where),
        region=_region(data.get("region"), where),
        stop=_stop(data.get("stop"), where),
        labels=_labels(data.get("labels"), where),
        seed=_positive_int(data.get("seed", 0), "seed", where, minimum=0, maximum=MAX_SEED),
        path=path,
        source=dict(data),
        inputs=tuple(p for p in inputs if p is not None),
    )


def _scorer(data: Mapping, base: Path, allow_python_scorer: bool, where: _Where) -> Scorer:
    name = data.get("scorer")
    if not isinstance(name, str) or not name:
        raise where.error(
            "scorer", "missing: name a scorer (label, exact, contains, regex, number, json, f1, rouge_l, fidelity)"
        )
    try:
        return make_scorer(name, _scorer_params(data, name, where), folder=base, allow_installed=allow_python_scorer)
    except InputError as exc:
        raise where.error("scorer", str(exc)) from None


def _target(value: Any, where: _Where) -> str:
    if not isinstance(value, str) or not value:
        raise where.error("target", f"must be a model name such as {DEFAULT_TARGET}, got {shown(repr(value))}")
    try:
        return check_target(value)
    except InputError as exc:
        raise where.error("target", str(exc)) from None


def _region(value: Any, where: _Where) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.error("region", f"must be an ISO country code such as FR or USA, got {shown(repr(value))}")
    from .measure.carbon import resolve_region

    try:
        resolve_region(value)
    except InputError as exc:
        raise where.error("region", str(exc)) from None
    return value


def _labels(value: Any, where: _Where) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
        raise where.error("labels", "must be a list of labels, e.g. [positive, negative]")
    return tuple(str(x) for x in value)


def _prompt(data: Mapping, mode: str, where: _Where) -> Prompt:
    if ("prompt" in data) == ("messages" in data):
        raise where.error("prompt", "give either prompt (text) or messages (chat), not both or neither")
    if "prompt" in data:
        if not isinstance(data["prompt"], str) or not data["prompt"].strip():
            raise where.error("prompt", "must be non-empty text")
        return Prompt(text=drop_final_newline(data["prompt"]))
    if mode != "chat":
        raise where.error("messages", "chat messages need mode: chat")
    if not isinstance(data["messages"], list) or not data["messages"]:
        raise where.error("messages", "must be a list of {role, content} messages")
    try:
        return Prompt.of(data["messages"])
    except InputError as exc:
        raise where.error("messages", str(exc)) from None


def _scorer_params(data: Mapping, name: str, where: _Where) -> dict:
    explicit = data.get("scorer_params") or {}
    if not isinstance(explicit, dict):
        raise where.error("scorer_params", "must be a mapping of parameter names to values")
    accepted = BUILTINS[name].params if name in BUILTINS else ()
    return {**{k: data[k] for k in accepted if k in data}, **explicit}


def _positive_int(value: Any, key: str, where: _Where, minimum: int = 1, maximum: int = sys.maxsize) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        got = shown(repr(value))[:60]
        raise where.error(key, f"must be a whole number from {minimum} to {maximum}, got {got}")
    return value


def _stop(value: Any, where: _Where) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(s, str) and s for s in value):
        return tuple(value)
    raise where.error("stop", "must be a string or a list of non-empty strings")


def _accept(value: Any, where: _Where) -> Accept:
    if not isinstance(value, dict):
        raise where.error("accept", "must be a mapping with max_drop, min_score, confidence")
    unknown = [k for k in value if k not in ACCEPT_KEYS]
    if unknown:
        raise where.error("accept", f"unknown key '{unknown[0]}': use {', '.join(ACCEPT_KEYS)}")
    accept = Accept(**{k: value[k] for k in ACCEPT_KEYS if k in value})
    checks = [
        ("max_drop", 0 <= _number(accept.max_drop) < 1, "must be in [0, 1), e.g. 0.02"),
        ("min_score", 0 <= _number(accept.min_score) <= 1, "must be in [0, 1]"),
        ("confidence", 0 < _number(accept.confidence) < 1, "must be in (0, 1), e.g. 0.95"),
        ("holdout", 0 <= _number(accept.holdout) < 1, "must be in [0, 1), e.g. 0.3 (0 turns it off)"),
    ]
    for key, ok, message in checks:
        if not ok:
            raise where.error("accept", f"{key} {getattr(accept, key)!r} {message}")
    return accept


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def _cases(value: Any, base: Path, where: _Where, allow_outside: bool) -> tuple[tuple[Case, ...], Path | None]:
    """The cases, and the file they came from (None for an inline list)."""
    if value is None:
        raise where.error("cases", "missing: give a cases file (JSONL, JSON or CSV) or an inline list")
    path = None
    if isinstance(value, str):
        path = cases_path(value, base, where, allow_outside)
        rows = read_cases_file(path, where)
    elif isinstance(value, list):
        rows = [(i + 1, row) for i, row in enumerate(value)]
    else:
        raise where.error("cases", "must be a file path or a list of {vars, expected}")
    if not rows:
        raise where.error("cases", "no cases: add at least one test case")
    source = shown(value) if isinstance(value, str) else "cases"
    cases = tuple(_case(row, source, n, where) for n, row in rows)
    seen: dict[str, int] = {}
    for (number, _), case in zip(rows, cases):
        if case.id in seen:
            raise InputError(
                f"{source}:{number}: case id {shown(case.id)} is used twice (first at {seen[case.id]}): "
                "give each case its own id"
            )
        seen[case.id] = number
    return cases, path


def cases_path(value: str, base: Path, where: _Where, allow_outside: bool = False) -> Path:
    """Where a spec's `cases:` file is, checked before anything is read: a known format, and
    inside the spec's folder (every symlink resolved) unless `allow_outside`."""
    path = base / value
    if path.suffix.lower() not in CASE_SUFFIXES:
        raise where.error("cases", f"{shown(value)}: unknown format: use .jsonl, .json or .csv")
    if not allow_outside and not inside(path, base):
        raise where.error(
            "cases",
            f"{shown(value)} is outside the spec's folder {shown(base.absolute())}: "
            "move the cases beside the spec, or pass --allow-outside",
        )
    return path


def _case(row: Any, source: str, number: int, where: _Where) -> Case:
    if not isinstance(row, dict) or not isinstance(row.get("vars", {}), dict):
        raise InputError(f"{source}:{number}: a case is an object with 'vars' (a mapping) and 'expected'")
    return Case(id=str(row.get("id") or f"case-{number}"), vars=dict(row.get("vars", {})), expected=row.get("expected"))


def read_cases_file(path: Path, where: _Where) -> list[tuple[int, Any]]:
    """The rows of a JSONL, JSON or CSV cases file, each with its line number."""
    try:
        text = read_text(path, limit=MAX_CASES_BYTES, fix="split the cases")
    except FileProblem as exc:
        if not path.exists():
            problem = f"{shown(path)}: no such cases file: check the path (relative to the spec)"
            raise where.error("cases", problem) from None
        raise where.error("cases", str(exc)) from None
    name, suffix = shown(path), path.suffix.lower()
    if suffix == ".jsonl":
        return _jsonl_rows(text, name)
    if suffix == ".json":
        data = parse(text, name, as_json=True)
        if not isinstance(data, list):
            raise InputError(f"{name}: a JSON cases file is a list of cases")
        return [(i + 1, row) for i, row in enumerate(data)]
    return _csv_rows(text, name)


def _jsonl_rows(text: str, name: str) -> list[tuple[int, Any]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, check_text(json.loads(line), f"{name}:{number}")))
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{number}: not valid JSON ({exc.msg}): fix or remove the line") from None
        except RecursionError:
            raise InputError(f"{name}:{number}: nested too deeply: flatten the case") from None
    return rows


def _csv_rows(text: str, name: str) -> list[tuple[int, Any]]:
    """CSV rows by the line they start on; quoted fields may hold newlines and be of any size."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows, start = [], 2
    try:
        for row in reader:
            if None in row:
                raise InputError(f"{name}:{start}: more fields than the header has columns: fix the quoting")
            rows.append((start, _csv_case(row)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{name}:{reader.line_num}: not valid CSV ({exc}): fix the quoting") from None
    return rows


def _csv_case(row: dict) -> dict:
    """CSV columns are variables, except `expected` and `id`."""
    return {
        "id": row.get("id"),
        "expected": row.get("expected"),
        "vars": {k: v for k, v in row.items() if k not in ("id", "expected")},
    }


def _check_cases(prompt: Prompt, cases: tuple[Case, ...], scorer: Scorer, where: _Where) -> None:
    needed = prompt.variables()
    for case in cases:
        missing = [name for name in needed if name not in case.vars]
        if missing:
            raise where.error("cases", f"case {shown(case.id)} has no value for prompt variable '{missing[0]}'")
        if scorer.needs_expected and case.expected is None:
            raise where.error(
                "cases", f"case {shown(case.id)} has no 'expected' value, which scorer {scorer.name} needs"
            )
