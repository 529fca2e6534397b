"""Task specs: a valid spec loads; every bad spec is one line naming file, line and key."""

import json
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
