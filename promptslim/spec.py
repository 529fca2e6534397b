"""Task specs: a prompt, test cases, a scorer and an acceptance rule (YAML or JSON).

Errors name the file, the line and the key; a variable the prompt uses but a case lacks
names the case.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .constants import MODES, OBJECTIVES
from .errors import InputError
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


class _Where:
    """Turns a key into 'file:line: key' for error messages."""

    def __init__(self, path: Path, text: str, lines: Mapping[str, int]):
        self.path, self.text, self.lines = path, text, lines

    def __call__(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}: {key}" if line else f"{self.path}: {key}"

    def error(self, key: str, message: str) -> InputError:
        return InputError(f"{self(key)}: {message}")


def load_spec(path: str | Path) -> Spec:
    """Read and check a task spec; every problem is an InputError naming file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such spec file: check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the spec ({exc}): give a UTF-8 YAML or JSON file") from None
    data, lines = _parse(path, text)
    return spec_from_dict(data, path=path, where=_Where(path, text, lines))


def _parse(path: Path, text: str) -> tuple[dict, dict[str, int]]:
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
            lines = {k: _json_line(text, k) for k in data} if isinstance(data, dict) else {}
        else:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
            lines = (
                {k.value: k.start_mark.line + 1 for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}
            )
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}): fix the syntax") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise InputError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}): fix the syntax") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a spec is a mapping of keys (name, prompt, cases, scorer, ...)")
    return data, lines


def _json_line(text: str, key: str) -> int | None:
    match = re.search(rf'"{re.escape(key)}"\s*:', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def spec_from_dict(data: Mapping[str, Any], *, path: Path | None = None, where: _Where | None = None) -> Spec:
    where = where or _Where(path or Path("<spec>"), "", {})
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise where.error(unknown[0], f"unknown key: use one of {', '.join(KEYS)}")
    mode = data.get("mode", "chat")
    if mode not in MODES:
        raise where.error("mode", f"'{mode}' is not a mode: use completion or chat")
    prompt = _prompt(data, mode, where)
    scorer_name = data.get("scorer")
    if not isinstance(scorer_name, str) or not scorer_name:
        raise where.error(
            "scorer", "missing: name a scorer (label, exact, contains, regex, number, json, f1, rouge_l, fidelity)"
        )
    try:
        scorer = make_scorer(scorer_name, _scorer_params(data, scorer_name, where))
    except InputError as exc:
        raise where.error("scorer", str(exc)) from None
    base = path.parent if path else Path.cwd()
    cases = _cases(data.get("cases"), base, where)
    _check_cases(prompt, cases, scorer, where)
    objective = data.get("objective", "energy")
    if objective not in OBJECTIVES:
        raise where.error("objective", f"'{objective}' is not an objective: use one of {', '.join(OBJECTIVES)}")
    target = data.get("target", DEFAULT_TARGET)
    try:
        check_target(target)
    except InputError as exc:
        raise where.error("target", str(exc)) from None
    return Spec(
        name=str(data.get("name") or (path.stem if path else "task")),
        description=str(data.get("description") or ""),
        prompt=prompt,
        mode=mode,
        max_tokens=_positive_int(data.get("max_tokens", 256), "max_tokens", where),
        cases=cases,
        scorer=scorer,
        accept=_accept(data.get("accept") or {}, where),
        objective=objective,
        target=target,
        region=data.get("region"),
        stop=_stop(data.get("stop"), where),
        labels=tuple(str(x) for x in data.get("labels") or ()),
        seed=_positive_int(data.get("seed", 0), "seed", where, minimum=0),
        path=path,
        source=dict(data),
    )


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


def _positive_int(value: Any, key: str, where: _Where, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise where.error(key, f"must be a whole number of at least {minimum}, got {value!r}")
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


def _cases(value: Any, base: Path, where: _Where) -> tuple[Case, ...]:
    if value is None:
        raise where.error("cases", "missing: give a cases file (JSONL, JSON or CSV) or an inline list")
    if isinstance(value, str):
        rows = read_cases_file(base / value, where)
    elif isinstance(value, list):
        rows = [(i + 1, row) for i, row in enumerate(value)]
    else:
        raise where.error("cases", "must be a file path or a list of {vars, expected}")
    if not rows:
        raise where.error("cases", "no cases: add at least one test case")
    return tuple(_case(row, str(value) if isinstance(value, str) else "cases", n, where) for n, row in rows)


def _case(row: Any, source: str, number: int, where: _Where) -> Case:
    if not isinstance(row, dict) or not isinstance(row.get("vars", {}), dict):
        raise InputError(f"{source}:{number}: a case is an object with 'vars' (a mapping) and 'expected'")
    return Case(id=str(row.get("id") or f"case-{number}"), vars=dict(row.get("vars", {})), expected=row.get("expected"))


def read_cases_file(path: Path, where: _Where) -> list[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise where.error("cases", f"{path}: no such cases file: check the path (relative to the spec)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise where.error("cases", f"{path}: cannot read ({exc}): give a UTF-8 file") from None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not valid JSON ({exc.msg}): fix or remove the line") from None
        return rows
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}): fix the syntax") from None
        if not isinstance(data, list):
            raise InputError(f"{path}: a JSON cases file is a list of cases")
        return [(i + 1, row) for i, row in enumerate(data)]
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        return [(n + 2, _csv_case(row)) for n, row in enumerate(reader)]
    raise where.error("cases", f"{path}: unknown format: use .jsonl, .json or .csv")


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
            raise where.error("cases", f"case {case.id} has no value for prompt variable '{missing[0]}'")
        if scorer.needs_expected and case.expected is None:
            raise where.error("cases", f"case {case.id} has no 'expected' value, which scorer {scorer.name} needs")
