import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from promptslim.diff import DiffOp, word_diff

# pieces that make before/after share words, so diffs have equal runs as well as changes
PIECES = st.sampled_from(
    ["the", "review", "positive", " ", "\n", "\t", ", ", ".", "`", "é", "{{var}}", "我", "喜欢", "。"]
)
RELATED = st.lists(PIECES, max_size=40).map("".join)


def rebuilt(ops: list[DiffOp]) -> tuple[str, str]:
    before = "".join(op.text for op in ops if op.op != "insert")
    after = "".join(op.text for op in ops if op.op != "delete")
    return before, after


def check_well_formed(ops: list[DiffOp]) -> None:
    assert all(op.op in ("equal", "delete", "insert") and op.text for op in ops)
    assert all(a.op != b.op for a, b in zip(ops, ops[1:])), "adjacent ops of one kind are merged"


@settings(max_examples=400, deadline=None)
@given(st.text(), st.text())
def test_rebuilds_both_texts_from_any_unicode(before, after):
    ops = word_diff(before, after)
    assert rebuilt(ops) == (before, after)
    check_well_formed(ops)


@settings(max_examples=400, deadline=None)
@given(RELATED, RELATED)
def test_rebuilds_both_texts_when_they_share_words(before, after):
    ops = word_diff(before, after)
    assert rebuilt(ops) == (before, after)
    check_well_formed(ops)


def test_identical_texts_are_one_equal_op():
    assert word_diff("same text", "same text") == [DiffOp("equal", "same text")]
    assert word_diff("", "") == []


def test_a_replacement_is_a_deletion_then_an_insertion():
    assert word_diff("the quick brown fox", "the slow red fox") == [
        DiffOp("equal", "the "),
        DiffOp("delete", "quick brown"),
        DiffOp("insert", "slow red"),
        DiffOp("equal", " fox"),
    ]


def test_chinese_characters_are_words():
    assert word_diff("我喜欢这个产品", "我不喜欢这个产品") == [
        DiffOp("equal", "我"),
        DiffOp("insert", "不"),
        DiffOp("equal", "喜欢这个产品"),
    ]
    ops = word_diff("这个产品很好。", "这个手机很好。")
    assert [op for op in ops if op.op != "equal"] == [DiffOp("delete", "产品"), DiffOp("insert", "手机")]


def test_realistic_prompt_edit():
    before = (
        "You are a very helpful assistant. Please read the review below carefully.\n"
        "Answer with exactly one word: positive or negative.\n\nReview: {{review}}\nSentiment:"
    )
    after = "Answer with one word: positive or negative.\n\nReview: {{review}}\nSentiment:"
    ops = word_diff(before, after)
    assert rebuilt(ops) == (before, after)
    deleted = "".join(op.text for op in ops if op.op == "delete")
    assert "You are a very helpful assistant. Please read the review below carefully.\n" in deleted
    assert "exactly" in deleted
    assert not [op for op in ops if op.op == "insert"]
    assert ops[-1] == DiffOp("equal", " one word: positive or negative.\n\nReview: {{review}}\nSentiment:")


def _corpus(seed: int, words: int, sentences: bool = True) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)]
    weights = [1 / (i + 1) for i in range(3000)]  # Zipf-like, as in prose
    picked = rng.choices(vocab, weights, k=words)
    return [w + (". " if sentences and i % 12 == 11 else " ") for i, w in enumerate(picked)]


def _timed(before: str, after: str) -> float:
    start = time.perf_counter()
    ops = word_diff(before, after)
    elapsed = time.perf_counter() - start
    assert rebuilt(ops) == (before, after)
    return elapsed


def test_100_kb_texts_diff_fast():
    rng = random.Random(1)
    for sentences in (True, False):  # without sentence breaks the diff falls back to unique words
        words = _corpus(0, 25_000, sentences)
        edited = list(words)
        for _ in range(300):
            edited[rng.randrange(len(edited))] = "changed "
        before, after = "".join(words), "".join(edited)
        assert len(before) > 100_000
        assert _timed(before, after) < 1.0
    unrelated = "".join(_corpus(2, 25_000))
    assert _timed(before, unrelated) < 1.0


def test_dense_edits_stay_far_from_quadratic():
    # every other word changed, in 100 KB with a small vocabulary: difflib alone takes minutes
    words = _corpus(4, 20_000, sentences=False)
    edited = [w if i % 2 else "x" + w for i, w in enumerate(words)]
    assert _timed("".join(words), "".join(edited)) < 3.0


def test_unrelated_long_texts_read_as_one_rewrite():
    before, after = "".join(_corpus(0, 5_000, False)), "".join(_corpus(3, 5_000, False))
    changes = [op for op in word_diff(before, after) if op.op != "equal"]
    assert len(changes) <= 4
