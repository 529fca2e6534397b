"""Scorers: how well one model output matches a case, as a float in [0, 1].

Built-ins are chosen by name with parameters from the task spec. `python:module:function`
names a function of the user's own: a module beside the spec (or, with the user's explicit
`--allow-python-scorer`, an installed package), never the standard library or builtins.
Importing it runs its code, as running a test file would; nothing else in a spec is code.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import math
import os
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path

from .errors import InputError

ScoreFn = Callable[[str, object, "str | None"], object]
MISSING = object()  # "no JSON here": None is a valid JSON value


@dataclass(frozen=True)
class Scorer:
    """A named fn(output, expected, reference) -> number; score() checks and clamps it to [0, 1]."""

    name: str
    fn: ScoreFn = field(repr=False, compare=False)
    needs_expected: bool = True
    source: str | None = field(default=None, compare=False)  # a python scorer's module file

    def score(self, output: str, expected: object | None, reference: str | None = None) -> float:
        if self.needs_expected and expected is None:
            raise InputError(
                f"scorer '{self.name}' needs an expected value for every case: "
                "add `expected` to the case, or score with fidelity"
            )
        return clamp(self.fn(output, expected, reference), self.name)


def clamp(value: object, name: str) -> float:
    """A scorer's result as a float in [0, 1]; NaN counts as a miss."""
    if not isinstance(value, Real):
        raise InputError(f"scorer '{name}' returned {type(value).__name__}: make it return a number in [0, 1]")
    value = float(value)
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))


# --- text and numbers -------------------------------------------------------------------


def as_text(value: object) -> str:
    """Expected values from YAML/JSON as the text a model would write: 3.0 -> '3', True -> 'true'."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _is_punctuation(ch: str) -> bool:
    # SQuAD strips ASCII punctuation; Unicode punctuation (curly quotes, dashes) too
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if not _is_punctuation(ch))
    return " ".join(ARTICLES.sub(" ", text).split())


NUMBER = re.compile(
    r"(?<![\w.])"  # not the tail of a word or of another number
    r"(?P<sign>[-+\u2212])?\s?[$€£¥]?\s?(?P<sign2>[-+\u2212])?"
    r"(?P<value>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)"
)


def _number_of(match: re.Match) -> float:
    negative = bool({match["sign"], match["sign2"]} & {"-", "\u2212"})
    value = float(match["value"].replace(",", ""))
    return -value if negative else value


def first_number(text: str) -> float | None:
    """The first number in text: '-$1,234.50' -> -1234.5."""
    match = NUMBER.search(text)
    return None if match is None else _number_of(match)


def whole_number(text: str) -> float | None:
    """The number text is, if it is nothing else (a final full stop allowed)."""
    match = NUMBER.fullmatch(text.strip().removesuffix("."))
    return None if match is None else _number_of(match)


# --- JSON --------------------------------------------------------------------------------

FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
DECODER = json.JSONDecoder()


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return MISSING


def extract_json(text: str) -> object:
    """The JSON in a model output: a fenced block, the whole text, or the first {...}/[...] span."""
    for block in FENCE.findall(text):
        found = _loads(block.strip())
        if found is not MISSING:
            return found
    found = _loads(text.strip())
    if found is not MISSING:
        return found
    for match in re.finditer(r"[\[{]", text):
        try:
            return DECODER.raw_decode(text, match.start())[0]
        except ValueError:
            continue
    return MISSING


def json_document(text: str) -> object:
    """The object or array that text is, alone or in one fenced block; else MISSING."""
    fenced = FENCE.fullmatch(text.strip())
    found = _loads((fenced.group(1) if fenced else text).strip())
    return found if isinstance(found, (dict, list)) else MISSING


def json_equal(a: object, b: object) -> bool:
    """Equality of JSON values, where true is not 1 (Python's == says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return a == b


JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
NUMERIC_TYPES = ("number", "integer")


def _is_type(value: object, name: str) -> bool:
    if name in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return name == "number" or float(value).is_integer()
    return isinstance(value, JSON_TYPES[name])


def _type_names(schema: Mapping) -> list[str]:
    names = schema.get("type", [])
    return [names] if isinstance(names, str) else list(names)


def _check_schema(schema: object) -> None:
    """Reject what the built-in check cannot read, so a typo fails loudly, not as score 0."""
    if not isinstance(schema, dict):
        raise InputError("scorer 'json': `schema` must be a JSON Schema object (a mapping)")
    known = [*JSON_TYPES, *NUMERIC_TYPES]
    for name in _type_names(schema):
        if name not in known:
            raise InputError(f"scorer 'json': unknown schema type '{name}': use one of {', '.join(known)}")
    for sub in [*schema.get("properties", {}).values(), *([schema["items"]] if "items" in schema else [])]:
        _check_schema(sub)


def conforms(value: object, schema: Mapping) -> bool:
    """A minimal JSON Schema check: type, enum, required, properties, items."""
    names = _type_names(schema)
    if names and not any(_is_type(value, name) for name in names):
        return False
    if "enum" in schema and not any(json_equal(value, option) for option in schema["enum"]):
        return False
    if isinstance(value, dict):
        if any(key not in value for key in schema.get("required", ())):
            return False
        if not all(conforms(value[k], sub) for k, sub in schema.get("properties", {}).items() if k in value):
            return False
    if isinstance(value, list) and "items" in schema:
        return all(conforms(item, schema["items"]) for item in value)
    return True


def schema_validator(schema: object) -> Callable[[object], bool]:
    """jsonschema's full validator when it is installed, else the minimal built-in check."""
    try:
        import jsonschema
    except ImportError:
        _check_schema(schema)
        return lambda value: conforms(value, schema)
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        raise InputError(f"scorer 'json': invalid `schema` ({exc.message}): fix the JSON Schema") from None
    return validator_class(schema).is_valid


def _expected_json(expected: object) -> object:
    if isinstance(expected, str):
        found = _loads(expected)
        return expected if found is MISSING else found
    return expected


def json_agreement(found: object, expected: object) -> float:
    """1/0 equality, or for an expected object the fraction of its keys whose values match."""
    expected = _expected_json(expected)
    if expected is None:
        return 1.0
    if isinstance(expected, dict) and expected:
        if not isinstance(found, dict):
            return 0.0
        return sum(k in found and json_equal(found[k], v) for k, v in expected.items()) / len(expected)
    return float(json_equal(found, expected))


# --- token overlap -------------------------------------------------------------------------


def f_measure(overlap: int, n_output: int, n_expected: int) -> float:
    if overlap == 0:
        return 0.0
    precision, recall = overlap / n_output, overlap / n_expected
    return 2 * precision * recall / (precision + recall)


def token_f1(output: str, expected: str) -> float:
    """SQuAD token F1: bag-of-words overlap after normalize_answer."""
    got, want = normalize_answer(output).split(), normalize_answer(expected).split()
    if not got or not want:
        return float(got == want)
    return f_measure(sum((Counter(got) & Counter(want)).values()), len(got), len(want))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence, one row of the table at a time."""
    if len(a) < len(b):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, 1):  # diagonal: the previous row's row[j - 1]
            diagonal, row[j] = row[j], diagonal + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def rouge_l(output: str, expected: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens."""
    got, want = re.findall(r"\w+", output.lower()), re.findall(r"\w+", expected.lower())
    if not got or not want:
        return float(got == want)
    return f_measure(lcs_length(got, want), len(got), len(want))


def fidelity(output: str, expected: object, reference: str | None) -> float:
    """Agreement with the baseline's own output, compared the way that output's kind needs:
    a JSON object/array by parsed equality (the candidate's JSON may sit in prose or a fence),
    a number by value, up to 3 words by normalised text, anything longer by token F1."""
    if reference is None:
        raise ValueError("fidelity needs reference: the baseline prompt's output for the same case")
    document = json_document(reference)
    if document is not MISSING:
        return float(json_equal(extract_json(output), document))
    number = whole_number(reference)
    if number is not None:
        got = first_number(output)
        return float(got is not None and math.isclose(got, number, rel_tol=1e-9, abs_tol=1e-12))
    if len(reference.split()) <= 3:
        return float(normalize_answer(output) == normalize_answer(reference))
    return token_f1(output, reference)


# --- parameters ------------------------------------------------------------------------------


def _flag(scorer: str, params: Mapping[str, object], key: str, default: bool) -> bool:
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"scorer '{scorer}': `{key}` must be true or false, got {value!r}")
    return value


def _amount(scorer: str, params: Mapping[str, object], key: str) -> float:
    value = params.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
        raise InputError(f"scorer '{scorer}': `{key}` must be a number >= 0, got {value!r}")
    return float(value)


def _words(scorer: str, params: Mapping[str, object], key: str, required: bool) -> list[str]:
    value = params.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value or any(isinstance(v, (dict, list)) or as_text(v) == "" for v in value):
        raise InputError(f"scorer '{scorer}': `{key}` must be a non-empty list of strings, e.g. [positive, negative]")
    return [as_text(v) for v in value]


# --- the built-in scorers --------------------------------------------------------------------


def _exact(params: Mapping[str, object]) -> ScoreFn:
    fold = (lambda s: s) if _flag("exact", params, "case_sensitive", False) else str.casefold
    return lambda output, expected, _: float(fold(output.strip()) == fold(as_text(expected).strip()))


def _contains(params: Mapping[str, object]) -> ScoreFn:
    return lambda output, expected, _: float(as_text(expected).strip().casefold() in output.casefold())


def _label(params: Mapping[str, object]) -> ScoreFn:
    labels = _words("label", params, "labels", required=True)
    # whole words only: "negatively" does not say "negative"
    patterns = [(label, re.compile(rf"(?<!\w){re.escape(label)}(?!\w)", re.IGNORECASE)) for label in labels]

    def score(output: str, expected: object, _: str | None) -> float:
        hits = [(m.start(), -len(label), label) for label, p in patterns if (m := p.search(output))]
        if not hits:
            return 0.0
        said = min(hits)[2]  # earliest; at one position the longest label ("very positive")
        return float(said.casefold() == as_text(expected).strip().casefold())

    return score


def _regex(params: Mapping[str, object]) -> ScoreFn:
    pattern = params.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise InputError("scorer 'regex' needs `pattern`, a regular expression such as 'Answer: (\\w+)'")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise InputError(f"scorer 'regex': invalid `pattern` {pattern!r} ({exc}): fix the regular expression") from None

    def score(output: str, expected: object, _: str | None) -> float:
        match = compiled.search(output)
        if match is None or expected is None:
            return float(match is not None)
        found = match.group(1) if compiled.groups else match.group(0)
        return float(found is not None and found.strip() == as_text(expected).strip())

    return score


def _expected_number(expected: object) -> float:
    if isinstance(expected, Real) and not isinstance(expected, bool):
        return float(expected)
    number = first_number(as_text(expected))
    if number is None:
        raise InputError(f"scorer 'number': expected value {expected!r} is not a number: write it as a number")
    return number


def _number(params: Mapping[str, object]) -> ScoreFn:
    tolerance, rel_tolerance = _amount("number", params, "tolerance"), _amount("number", params, "rel_tolerance")

    def score(output: str, expected: object, _: str | None) -> float:
        want, got = _expected_number(expected), first_number(output)
        if got is None:
            return 0.0
        allowed = max(tolerance, rel_tolerance * abs(want))
        # slack for binary rounding: 1.01 - 1.00 is a hair above 0.01
        return float(abs(got - want) <= allowed + 1e-9 * max(1.0, abs(want)))

    return score


def _json(params: Mapping[str, object]) -> ScoreFn:
    required = _words("json", params, "required_keys", required=False)
    valid = schema_validator(params["schema"]) if "schema" in params else (lambda _: True)

    def score(output: str, expected: object, _: str | None) -> float:
        found = extract_json(output)
        if found is MISSING or not valid(found):
            return 0.0
        if required and not (isinstance(found, dict) and all(key in found for key in required)):
            return 0.0
        return json_agreement(found, expected)

    return score


def _plain(fn: Callable[[str, str], float]) -> Callable[[Mapping[str, object]], ScoreFn]:
    return lambda params: lambda output, expected, _: fn(output, as_text(expected))


@dataclass(frozen=True)
class Builtin:
    build: Callable[[Mapping[str, object]], ScoreFn]
    params: tuple[str, ...] = ()
    needs_expected: bool = True


BUILTINS: dict[str, Builtin] = {
    "exact": Builtin(_exact, ("case_sensitive",)),
    "contains": Builtin(_contains),
    "label": Builtin(_label, ("labels",)),
    "regex": Builtin(_regex, ("pattern",), needs_expected=False),
    "number": Builtin(_number, ("tolerance", "rel_tolerance")),
    "json": Builtin(_json, ("required_keys", "schema"), needs_expected=False),
    "f1": Builtin(_plain(token_f1)),
    "rouge_l": Builtin(_plain(rouge_l)),
    "fidelity": Builtin(lambda params: fidelity, needs_expected=False),
}
SCORERS: tuple[str, ...] = tuple(BUILTINS)
CHOICES = f"use one of {', '.join(SCORERS)}, or python:module:function with your module beside the spec"
PYTHON_PATH = re.compile(r"python:([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)")


def _check_params(name: str, params: Mapping[str, object], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        takes = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
        raise InputError(f"scorer '{name}': unknown parameter '{unknown[0]}': {takes}")


def is_python_itself(module: str) -> bool:
    """Is `module` (or its top-level package) part of Python: the standard library or builtins?"""
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def _python_scorer(name: str, folder: Path | None, allow_installed: bool) -> Scorer:
    path = PYTHON_PATH.fullmatch(name)
    if path is None:
        raise InputError(f"bad scorer '{name}': write python:module:function, or {CHOICES}")
    module_name, attribute = path.groups()
    top = module_name.partition(".")[0]
    if is_python_itself(module_name):
        raise InputError(
            f"scorer '{name}': {top} is part of Python itself, not a scorer: "
            "name a function in your own module, a .py file beside the spec"
        )
    found = importlib.machinery.PathFinder.find_spec(top, [str(folder)]) if folder is not None else None
    if found is None and not allow_installed:
        where = f"beside the spec in {folder}" if folder is not None else "beside the spec"
        raise InputError(
            f"scorer '{name}': no module {top} {where}: put {top}.py there, or pass --allow-python-scorer "
            f"to import the installed package {top} (importing it runs its code)"
        )
    try:
        module = _import(module_name, found)
    except InputError:
        raise
    except Exception as exc:  # importing runs the module's code, which may raise anything
        reason = (str(exc).splitlines() or [""])[0]
        raise InputError(
            f"scorer '{name}': cannot import {module_name} ({type(exc).__name__}: {reason}): "
            f"fix the module, or {CHOICES}"
        ) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise InputError(f"scorer '{name}': {module_name} has no function {attribute}: fix the name, or {CHOICES}")
    return Scorer(name, _reporting(name, function), needs_expected=False, source=getattr(module, "__file__", None))


def _reporting(name: str, function: ScoreFn) -> ScoreFn:
    """The user's function, whose exceptions (it may raise anything) become one-line input errors."""

    def scored(output: str, expected: object | None, reference: str | None) -> object:
        try:
            return function(output, expected, reference)
        except Exception as exc:
            reason = (str(exc).splitlines() or [""])[0][:200]
            raise InputError(
                f"scorer '{name}' failed on an output ({type(exc).__name__}: {reason}): fix the scorer"
            ) from None

    return scored


def _import(module_name: str, beside) -> object:
    """The module; with `beside` (the spec of its top-level module in the spec's folder), the top
    level is loaded from there, whatever sys.path says, and submodules from its own folder."""
    if beside is None:
        return importlib.import_module(module_name)
    top = beside.name
    loaded = sys.modules.get(top)
    if loaded is None:
        module = importlib.util.module_from_spec(beside)
        sys.modules[top] = module
        try:
            beside.loader.exec_module(module)
        except BaseException:
            del sys.modules[top]
            raise
    elif not _same_origin(loaded, beside):
        raise InputError(
            f"scorer module {top}: a module of that name is already loaded from "
            f"{getattr(loaded, '__file__', None) or 'elsewhere'}: rename yours"
        )
    return importlib.import_module(module_name)


def _same_origin(module, spec) -> bool:
    origin, loaded = spec.origin, getattr(module, "__file__", None)
    if origin is None or loaded is None:  # namespace packages: compare their folders
        return list(getattr(module, "__path__", []) or []) == list(spec.submodule_search_locations or [])
    return os.path.realpath(origin) == os.path.realpath(loaded)


def make_scorer(
    name: str,
    params: Mapping[str, object] | None = None,
    *,
    folder: str | Path | None = None,
    allow_installed: bool = False,
) -> Scorer:
    """The scorer a task spec names, configured with its parameters. A python scorer is looked
    for in `folder` (the spec's); an installed one is imported only with `allow_installed`."""
    params = params or {}
    if name.startswith("python:"):
        _check_params(name, params, ())
        return _python_scorer(name, Path(folder) if folder is not None else None, allow_installed)
    builtin = BUILTINS.get(name)
    if builtin is None:
        raise InputError(f"unknown scorer '{name}': {CHOICES}")
    _check_params(name, params, builtin.params)
    return Scorer(name, builtin.build(params), builtin.needs_expected)
