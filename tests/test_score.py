import math
import sys

import pytest

from promptslim.errors import InputError
from promptslim.score import MISSING, SCORERS, extract_json, first_number, make_scorer


def score(name, output, expected=None, reference=None, **params):
    return make_scorer(name, params).score(output, expected, reference)


@pytest.mark.parametrize(
    "output, expected, params, want",
    [
        ("  Paris\n", "paris", {}, 1.0),
        ("Paris", "paris", {"case_sensitive": True}, 0.0),
        ("The answer is Paris", "Paris", {}, 0.0),
        ("42", 42, {}, 1.0),  # numbers from YAML
        ("3", 3.0, {}, 1.0),
        ("true", True, {}, 1.0),
    ],
)
def test_exact(output, expected, params, want):
    assert score("exact", output, expected, **params) == want


def test_contains_is_case_insensitive_and_takes_numbers():
    assert score("contains", "The capital of France is PARIS.", "paris") == 1.0
    assert score("contains", "Total: 1234 units", 1234) == 1.0
    assert score("contains", "The capital is Lyon.", "Paris") == 0.0


LABELS = {"labels": ["positive", "negative", "neutral"]}


@pytest.mark.parametrize(
    "output, expected, want",
    [
        ("Sentiment: Negative.", "negative", 1.0),
        ("negative", "NEGATIVE", 1.0),
        ("The review was not positive; overall negative.", "positive", 1.0),  # earliest label wins
        ("The review was not positive; overall negative.", "negative", 0.0),
        ("The customer spoke negatively about the delay.", "negative", 0.0),  # whole words only
        ("The customer spoke negatively, but the verdict is neutral.", "neutral", 1.0),
        ("I cannot tell.", "neutral", 0.0),
    ],
)
def test_label(output, expected, want):
    assert score("label", output, expected, **LABELS) == want


def test_label_prefers_the_longer_label_at_the_same_position():
    params = {"labels": ["positive", "very positive"]}
    assert score("label", "Very positive!", "very positive", **params) == 1.0
    assert score("label", "Very positive!", "positive", **params) == 0.0


def test_label_handles_numeric_labels():
    assert score("label", "Rating: 4 of 5 stars", 4, labels=[1, 2, 3, 4, 5]) == 1.0


@pytest.mark.parametrize("params", [{}, {"labels": []}, {"labels": "positive"}, {"labels": [""]}])
def test_label_needs_labels(params):
    with pytest.raises(InputError, match="labels"):
        make_scorer("label", params)


def test_regex_group_match_and_presence():
    assert score("regex", "Reasoning... Answer: B", "B", pattern=r"Answer:\s*([A-D])") == 1.0
    assert score("regex", "Reasoning... Answer: C", "B", pattern=r"Answer:\s*([A-D])") == 0.0
    assert score("regex", "Order #A-1234 shipped", "A-1234", pattern=r"[A-Z]-\d{4}") == 1.0
    assert score("regex", "Call 555-0100 today", None, pattern=r"\d{3}-\d{4}") == 1.0
    assert score("regex", "No phone here", None, pattern=r"\d{3}-\d{4}") == 0.0
    assert score("regex", "code 7", 7, pattern=r"code (\d)") == 1.0


def test_regex_bad_pattern_is_input_error():
    with pytest.raises(InputError, match="pattern"):
        make_scorer("regex", {"pattern": "Answer: ([A-D]"})
    with pytest.raises(InputError, match="pattern"):
        make_scorer("regex", {})


@pytest.mark.parametrize(
    "text, number",
    [
        ("The total is $1,234.50 including tax.", 1234.5),
        ("Loss of -$300 this quarter", -300.0),
        ("It costs €12", 12.0),
        ("approximately 0.75", 0.75),
        ("Answer: 1234567", 1234567.0),
        ("1,2,3", 1.0),  # a list, not thousands
        ("x = −4", -4.0),  # Unicode minus
        ("Q3 revenue was 5 million", 5.0),  # Q3 is a name, not a number
        ("no digits", None),
    ],
)
def test_first_number(text, number):
    assert first_number(text) == number


def test_number_tolerances():
    assert score("number", "The total is $1,234.50.", 1234.5) == 1.0
    assert score("number", "The total is $1,234.50.", "$1,234.50") == 1.0
    assert score("number", "about 1.01", 1.0) == 0.0
    assert score("number", "about 1.01", 1.0, tolerance=0.01) == 1.0  # 1.01 - 1.0 is a hair over 0.01 in floats
    assert score("number", "about 1.02", 1.0, tolerance=0.01) == 0.0
    assert score("number", "roughly 1,030", 1000, rel_tolerance=0.05) == 1.0
    assert score("number", "roughly 1,060", 1000, rel_tolerance=0.05) == 0.0
    assert score("number", "I don't know", 7) == 0.0


def test_number_bad_config():
    with pytest.raises(InputError, match="tolerance"):
        make_scorer("number", {"tolerance": -1})
    with pytest.raises(InputError, match="not a number"):
        score("number", "5", "five")


FENCED = 'Here is the record:\n```json\n{"name": "Ada", "age": 36, "tags": ["math"]}\n```\nAnything else?'


def test_extract_json_from_fence_whole_text_and_span():
    assert extract_json(FENCED) == {"name": "Ada", "age": 36, "tags": ["math"]}
    assert extract_json("[1, 2]") == [1, 2]
    assert extract_json('Sure! {"ok": true} Hope that helps.') == {"ok": True}
    assert extract_json("Result: {not json} then [3]") == [3]
    assert extract_json("no json at all") is MISSING
    assert score("json", "no json at all") == 0.0


def test_json_required_keys_and_expected_fraction():
    assert score("json", FENCED, required_keys=["name", "age"]) == 1.0
    assert score("json", FENCED, required_keys=["name", "email"]) == 0.0
    assert score("json", FENCED, {"name": "Ada", "age": 37}) == 0.5
    assert score("json", FENCED, '{"name": "Ada", "age": 36}') == 1.0  # expected written as JSON text
    assert score("json", '{"ok": 1}', {"ok": True}) == 0.0  # true is not 1


SCHEMA = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.mark.parametrize(
    "output, want",
    [
        (FENCED, 1.0),
        ('{"name": "Ada", "age": "36"}', 0.0),
        ('{"name": "Ada"}', 0.0),
        ('{"name": "Ada", "age": 36, "tags": [1]}', 0.0),
        ('{"name": "Ada", "age": true}', 0.0),
        ('["Ada", 36]', 0.0),
    ],
)
def test_json_schema(output, want):
    assert score("json", output, schema=SCHEMA) == want


def test_json_schema_builtin_check_without_jsonschema(monkeypatch):
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import fails: the built-in check runs
    scorer = make_scorer("json", {"schema": SCHEMA})
    assert scorer.score(FENCED, None) == 1.0
    assert scorer.score('{"name": "Ada", "age": 3.5}', None) == 0.0
    with pytest.raises(InputError, match="strng"):
        make_scorer("json", {"schema": {"type": "strng"}})


def test_f1_is_squad_token_f1():
    assert score("f1", "The Eiffel Tower!", "eiffel tower") == 1.0
    # tokens: [eiffel, tower, in, paris] vs [eiffel, tower]: P = 1/2, R = 1 -> F1 = 2/3
    assert score("f1", "the Eiffel Tower in Paris", "Eiffel Tower") == pytest.approx(2 / 3)
    assert score("f1", "Louvre", "Eiffel Tower") == 0.0
    assert score("f1", "1969", 1969) == 1.0


def test_rouge_l_uses_the_longest_common_subsequence():
    # LCS of "the cat sat on the mat" and "the cat lay on the mat" is 5 tokens of 6 each
    assert score("rouge_l", "The cat sat on the mat.", "the cat lay on the mat") == pytest.approx(5 / 6)
    # order matters: LCS("a b c d", "d c b a") = 1 -> P = R = 1/4
    assert score("rouge_l", "a b c d", "d c b a") == pytest.approx(0.25)
    assert score("rouge_l", "", "") == 1.0


@pytest.mark.parametrize(
    "output, reference, want",
    [
        ('{"b": 2, "a": 1}', '```json\n{"a": 1, "b": 2}\n```', 1.0),  # JSON: parsed equality
        ('Sure: {"a": 1, "b": 3}', '{"a": 1, "b": 2}', 0.0),
        ("The answer is $1,200.", "1200", 1.0),  # number
        ("The answer is 1201.", "1200", 0.0),
        ("Positive.", "positive", 1.0),  # short text: normalised exact
        ("Sentiment: positive", "positive", 0.0),
    ],
)
def test_fidelity_compares_the_way_the_reference_needs(output, reference, want):
    assert score("fidelity", output, None, reference) == want


def test_fidelity_long_text_is_token_f1_and_needs_no_expected():
    scorer = make_scorer("fidelity", {})
    assert not scorer.needs_expected
    reference = "The meeting moved to Tuesday at noon in room 4"
    assert 0.5 < scorer.score("The meeting is now on Tuesday at noon in room 4", None, reference) < 1.0
    with pytest.raises(ValueError, match="reference"):
        scorer.score("text", None, None)


def test_scorers_that_need_expected_say_so():
    with pytest.raises(InputError, match="expected"):
        make_scorer("exact", {}).score("Paris", None)


SCORER_MODULE = (
    "def polite(output, expected, reference):\n"
    "    return 2.0 if 'please' in output.lower() else -1\n"
    "def length_ratio(output, expected, reference):\n"
    "    return len(output) / len(reference)\n"
    "def broken(output, expected, reference):\n"
    "    return 'yes'\n"
    "def crashes(output, expected, reference):\n"
    "    raise KeyError('oops')\n"
    "NOT_A_FUNCTION = 3\n"
)


@pytest.fixture
def fresh_modules():
    """Scorer modules loaded by a test are forgotten after it: the next test's folder has its own."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.fixture
def user_scorer(tmp_path, fresh_modules):
    """A package of scorers beside a spec, in tmp_path (the spec's folder)."""
    package = tmp_path / "myscorers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "checks.py").write_text(SCORER_MODULE)
    return "python:myscorers.checks"


def test_python_scorer_beside_the_spec_is_imported_called_and_clamped(user_scorer, tmp_path):
    polite = make_scorer(f"{user_scorer}:polite", {}, folder=tmp_path)
    assert polite.score("Please wait", None) == 1.0
    assert polite.score("Wait", None) == 0.0
    assert polite.source == str(tmp_path / "myscorers" / "checks.py")
    assert make_scorer(f"{user_scorer}:length_ratio", {}, folder=tmp_path).score("abc", None, "abcdef") == 0.5
    with pytest.raises(InputError, match="returned str"):
        make_scorer(f"{user_scorer}:broken", {}, folder=tmp_path).score("x", None)
    with pytest.raises(InputError, match=r"failed on an output \(KeyError: 'oops'\): fix the scorer"):
        make_scorer(f"{user_scorer}:crashes", {}, folder=tmp_path).score("x", None)


@pytest.mark.parametrize(
    "name, message",
    [
        ("python:myscorers.checks:missing", "has no function missing"),
        ("python:myscorers.checks:NOT_A_FUNCTION", "has no function"),
        ("python:myscorers.nope:polite", "cannot import myscorers.nope"),
        ("python:os.system('rm -rf /')", "bad scorer"),  # never evaluated
        ("python:myscorers.checks", "bad scorer"),
        ("bleu", "unknown scorer 'bleu'"),
    ],
)
def test_bad_scorer_names_are_input_errors_listing_the_builtins(user_scorer, tmp_path, name, message):
    with pytest.raises(InputError, match=message) as error:
        make_scorer(name, {}, folder=tmp_path)
    assert "rouge_l" in str(error.value)  # the built-ins are listed
    assert len(str(error.value).splitlines()) == 1


@pytest.mark.parametrize(
    "name",
    ["python:builtins:eval", "python:os:system", "python:subprocess:getoutput", "python:json.decoder:scanstring"],
)
def test_python_itself_is_never_a_scorer_even_when_allowed(tmp_path, name):
    (tmp_path / "os.py").write_text("def system(*a): return 1\n")  # a file beside the spec does not change it
    with pytest.raises(InputError, match="part of Python itself"):
        make_scorer(name, {}, folder=tmp_path, allow_installed=True)


def test_an_installed_scorer_needs_the_users_permission(tmp_path, monkeypatch, fresh_modules):
    site = tmp_path / "site"
    site.mkdir()
    (site / "installed_checks.py").write_text(SCORER_MODULE)
    monkeypatch.syspath_prepend(str(site))
    spec_folder = tmp_path / "spec"
    spec_folder.mkdir()
    with pytest.raises(InputError, match="pass --allow-python-scorer") as refused:
        make_scorer("python:installed_checks:polite", {}, folder=spec_folder)
    assert "installed_checks" not in sys.modules  # refused before importing: no code ran
    assert len(str(refused.value).splitlines()) == 1
    allowed = make_scorer("python:installed_checks:polite", {}, folder=spec_folder, allow_installed=True)
    assert allowed.score("please", None) == 1.0


def test_the_module_beside_the_spec_wins_over_sys_path(tmp_path, monkeypatch, fresh_modules):
    site, spec_folder = tmp_path / "site", tmp_path / "spec"
    site.mkdir()
    spec_folder.mkdir()
    (site / "localcheck.py").write_text("def score(o, e, r):\n    return 0.0\n")
    (spec_folder / "localcheck.py").write_text("def score(o, e, r):\n    return 1.0\n")
    monkeypatch.syspath_prepend(str(site))
    assert make_scorer("python:localcheck:score", {}, folder=spec_folder).score("x", None) == 1.0
    other = tmp_path / "other"
    other.mkdir()
    (other / "localcheck.py").write_text("def score(o, e, r):\n    return 0.5\n")
    with pytest.raises(InputError, match="already loaded from"):  # never silently the other file
        make_scorer("python:localcheck:score", {}, folder=other)


def test_unknown_parameters_are_named():
    with pytest.raises(InputError, match="tolerence"):
        make_scorer("number", {"tolerence": 0.1})
    with pytest.raises(InputError, match="takes none"):
        make_scorer("f1", {"labels": ["a"]})


def test_every_builtin_returns_a_score_in_range():
    params = {"label": LABELS, "regex": {"pattern": r"\d+"}}
    for name in SCORERS:
        value = make_scorer(name, params.get(name, {})).score("Answer: 42, positive", "42", "42")
        assert 0.0 <= value <= 1.0 and not math.isnan(value), name
