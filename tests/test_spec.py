"""Task specs: a valid spec loads; every bad spec is one line naming file, line and key."""

import json
import re
import textwrap

import pytest

from promptslim.errors import InputError
from promptslim.spec import load_spec

GOOD = """\
name: t
mode: completion
prompt: |
  Review: {{review}}
  Sentiment:
max_tokens: 8
cases: cases.jsonl
scorer: label
labels: [positive, negative]
accept:
  max_drop: 0.05
  confidence: 0.9
"""
CASES = [{"vars": {"review": "good"}, "expected": "positive"}, {"vars": {"review": "bad"}, "expected": "negative"}]


def write(tmp_path, spec=GOOD, cases=CASES, name="spec.yaml"):
    (tmp_path / "cases.jsonl").write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    path = tmp_path / name
    path.write_text(spec)
    return path


def test_valid_spec_loads(tmp_path):
    spec = load_spec(write(tmp_path))
    assert spec.prompt.text == "Review: {{review}}\nSentiment:"  # the block scalar's final newline goes
    assert len(spec.cases) == 2 and spec.scorer.name == "label" and spec.accept.max_drop == 0.05
    assert spec.objective == "energy" and spec.target == "gpt-4o"


def test_json_spec_and_inline_cases(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(
        json.dumps(
            {
                "messages": [{"role": "user", "content": "Say {{x}}"}],
                "cases": [{"vars": {"x": "hi"}, "expected": "hi"}],
                "scorer": "contains",
            }
        )
    )
    spec = load_spec(path)
    assert spec.mode == "chat" and spec.prompt.is_chat


def test_csv_cases(tmp_path):
    (tmp_path / "cases.csv").write_text('review,expected\n"multi\nline",positive\n')
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD.replace("cases.jsonl", "cases.csv"))
    assert load_spec(path).cases[0].vars == {"review": "multi\nline"}


@pytest.mark.parametrize(
    "change, needle",
    [
        (("scorer: label", "scorer: vibes"), "spec.yaml:8: scorer: unknown scorer 'vibes'"),
        (("accept:", "objective: speed\naccept:"), "objective: 'speed' is not an objective"),
        (("cases: cases.jsonl", "cases: missing.jsonl"), "no such cases file"),
        (("labels: [positive, negative]\n", ""), "labels"),
        (("max_drop: 0.05", "max_drop: 1.5"), "max_drop 1.5 must be in [0, 1)"),
        (("confidence: 0.9", "confidence: 1"), "confidence 1 must be in (0, 1)"),
        (("max_tokens: 8", "max_tokens: 0"), "spec.yaml:6: max_tokens: must be a whole number"),
        (("mode: completion", "mode: poetry"), "spec.yaml:2: mode"),
        (("name: t", "name: t\nmax_tokenz: 3"), "spec.yaml:2: max_tokenz: unknown key"),
        (("prompt: |", "prompt: |\n  {{other}}"), "case case-1 has no value for prompt variable 'other'"),
    ],
)
def test_bad_specs_name_file_line_and_key(tmp_path, change, needle):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_empty_cases_and_broken_line(tmp_path):
    with pytest.raises(InputError, match="no cases"):
        load_spec(write(tmp_path, cases=[]))
    path = write(tmp_path)
    (tmp_path / "cases.jsonl").write_text(json.dumps(CASES[0]) + "\n{broken\n")
    with pytest.raises(InputError, match=r"cases.jsonl:2: not valid JSON"):
        load_spec(path)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, textwrap.dedent(GOOD) + "bad: [unclosed\n")
    with pytest.raises(InputError, match=r"spec.yaml:\d+: not valid YAML"):
        load_spec(path)


def test_missing_spec_file(tmp_path):
    with pytest.raises(InputError, match="no such spec file"):
        load_spec(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- values that used to crash


@pytest.mark.parametrize(
    "change, needle",
    [
        (("accept:", "target: 5\naccept:"), "spec.yaml:10: target: must be a model name such as gpt-4o, got 5"),
        (("accept:", "target: [gpt-4o]\naccept:"), "target: must be a model name such as gpt-4o, got ['gpt-4o']"),
        (("accept:", "region: 5\naccept:"), "spec.yaml:10: region: must be an ISO country code"),
        (("accept:", "region: Narnia\naccept:"), "region: unknown region 'Narnia'"),
        (("max_tokens: 8", "max_tokens: 1000000000"), "max_tokens: must be a whole number from 1 to 131072"),
        (("accept:", "seed: 100000000000000000000\naccept:"), "seed: must be a whole number from 0 to 4294967295"),
        (("scorer: label\nlabels: [positive, negative]", "scorer: exact\nlabels: positive"), "labels: must be a list"),
    ],
)
def test_wrong_types_and_out_of_range_values_are_input_errors(tmp_path, change, needle):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_case_ids_must_be_unique(tmp_path):
    path = write(tmp_path, cases=[{**CASES[0], "id": "a"}, {**CASES[1], "id": "a"}])
    with pytest.raises(InputError, match=r"cases.jsonl:2: case id a is used twice \(first at 1\)"):
        load_spec(path)


def test_csv_cases_with_long_fields_and_broken_rows(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD.replace("cases.jsonl", "cases.csv"))
    (tmp_path / "cases.csv").write_text(f"review,expected\n{'x' * 200_000},positive\n")  # over csv's 128 KB default
    assert len(load_spec(path).cases[0].vars["review"]) == 200_000
    (tmp_path / "cases.csv").write_text('review,expected\ngood,positive\n"a","b",c\n')
    with pytest.raises(InputError, match=r"cases.csv:3: more fields than the header"):
        load_spec(path)


# ---------------------------------------------------------------- where cases may come from


@pytest.fixture
def outside(tmp_path):
    """A spec folder, and a cases file beside (not inside) it."""
    folder = tmp_path / "spec"
    folder.mkdir()
    (tmp_path / "secret.jsonl").write_text("\n".join(json.dumps(c) for c in CASES) + "\n")
    return folder


@pytest.mark.parametrize(
    "cases", ["../secret.jsonl", "{root}/secret.jsonl", "link.jsonl", "sub/../../secret.jsonl"], ids=str
)
def test_cases_outside_the_spec_folder_are_refused_unless_allowed(outside, cases):
    (outside / "link.jsonl").symlink_to(outside.parent / "secret.jsonl")
    (outside / "sub").mkdir()
    path = outside / "spec.yaml"
    path.write_text(GOOD.replace("cases.jsonl", cases.format(root=outside.parent)))
    with pytest.raises(InputError, match="is outside the spec's folder .*: move the cases beside the spec, or pass"):
        load_spec(path)
    assert len(load_spec(path, allow_outside=True).cases) == 2


def test_devices_and_other_formats_are_refused_before_reading(outside, monkeypatch):
    from promptslim import files

    opened = []
    real = files.open_regular
    monkeypatch.setattr(files, "open_regular", lambda p: opened.append(str(p)) or real(p))
    path = outside / "spec.yaml"
    path.write_text(GOOD.replace("cases.jsonl", "../../../../../../etc/passwd"))
    with pytest.raises(InputError, match="unknown format: use .jsonl, .json or .csv"):
        load_spec(path, allow_outside=True)
    (outside / "zero.jsonl").symlink_to("/dev/zero")
    path.write_text(GOOD.replace("cases.jsonl", "zero.jsonl"))
    with pytest.raises(InputError, match="outside the spec's folder"):
        load_spec(path)
    with pytest.raises(InputError, match="is a device, FIFO or socket"):
        load_spec(path, allow_outside=True)
    assert opened == [str(path), str(path), str(path), str(outside / "zero.jsonl")]  # the spec; never passwd


def test_a_cases_file_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr("promptslim.spec.MAX_CASES_BYTES", 100)
    path = write(tmp_path, cases=CASES * 5)
    with pytest.raises(InputError, match=r"cases: .*cases.jsonl: 0\.00\d+ MB is over the 0\.0001 MB limit"):
        load_spec(path)


def test_a_spec_records_every_file_it_was_read_from(tmp_path):
    (tmp_path / "checks.py").write_text("def score(output, expected, reference):\n    return 1.0\n")
    path = write(tmp_path, GOOD.replace("scorer: label", "scorer: python:checks:score"))
    try:
        spec = load_spec(path)
    finally:
        import sys

        sys.modules.pop("checks", None)
    assert spec.inputs == (path, tmp_path / "cases.jsonl", tmp_path / "checks.py")
    assert spec.scorer.score("anything", None) == 1.0


def test_python_itself_is_never_a_scorer(tmp_path):
    path = write(tmp_path, GOOD.replace("scorer: label", "scorer: python:builtins:eval"))
    with pytest.raises(InputError, match="scorer: .*builtins is part of Python itself"):
        load_spec(path, allow_python_scorer=True)


@pytest.mark.parametrize(
    "name, text, needle",
    [
        (
            "spec.yaml",
            GOOD.replace("name: t\n", "name: t\nname: u\n"),
            "spec.yaml:2: not valid YAML (the key 'name' appears twice",
        ),
        (
            "spec.yaml",
            GOOD.replace("  max_drop: 0.05\n", "  max_drop: 0.05\n  max_drop: 0.5\n"),
            "key 'max_drop' appears twice",
        ),
        ("spec.json", '{"name": "a", "scorer": "exact", "name": "b"}', "spec.json:1: the key 'name' appears twice"),
    ],
)
def test_a_key_given_twice_is_an_error_not_the_last_one_winning(tmp_path, name, text, needle):
    path = write(tmp_path, text, name=name)
    with pytest.raises(InputError, match=re.escape(needle)):
        load_spec(path)


def test_lone_surrogates_from_json_escapes_are_refused(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"prompt": "Say {{x}} \udcff", "cases": [{"vars": {"x": 1}}], "scorer": "fidelity"}))
    with pytest.raises(InputError, match=r"spec.json: holds \\udcff, a lone surrogate"):
        load_spec(path)
    path = write(tmp_path, cases=[{"vars": {"review": "bad \udcff"}, "expected": "negative"}])
    with pytest.raises(InputError, match=r"cases.jsonl:1: holds \\udcff"):
        load_spec(path)
