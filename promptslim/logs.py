"""Call logs: reading OpenAI chat/completions records, and grouping calls into the templates
they came from.

Reading streams: a JSONL file a byte range at a time (a line belongs to the range it starts
in), a Parquet file a row group at a time, in record batches. Nothing holds a whole file.

Grouping, in two steps, both deterministic:

1. Learning. The first `LEARN_RECORDS` records of the log (in file order, whatever the
   partitioning) are masked: numbers, quoted strings, code blocks, the content of XML-style
   tags, e-mails, URLs and ids become placeholders. Distinct masked calls, most frequent
   first, are aligned word by word against the templates found so far (same roles); a call
   joins a template when, in every message, half of the shorter side's words line up (so
   that a long fill learned first does not stay "fixed") or RUN_WORDS words in a row do. The
   template keeps the words that line up; the rest become a wildcard `{*}`. Then a template
   that another, wider one covers is folded into it, and chat templates still literal (one
   call each) that differ in one message only become one template with that message a
   wildcard: a message that is wholly a fill. Placeholders become wildcards too, so a
   template is literal text between wildcards.
2. Counting. Every call is tested against the templates in order (its messages must start,
   end and contain the literal runs in order: no regular expression, no backtracking); the
   first match takes it. A call that matches none is kept under its masked text; once every
   partition is merged, those left over are learned the same way, starting from the known
   templates, so a template can widen and the order of partitions never matters.

Limits: a fixed word that happens to appear in every learned fill stays fixed until a call
without it widens the template; two templates that share half their words, or four words in
a row, in every message are counted as one; a template seen once stays literal, and a chat
message that is wholly free text is found only among such literal calls; literal `{word}`
text counts as a placeholder; the calls of a template first seen after the learning records
are held by their masked text until the merge, so memory grows with their distinct texts,
and learning is quadratic in the distinct calls no template takes.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher

from .corpus import Problem
from .errors import InputError
from .files import shown

LEARN_RECORDS = 2000  # records the templates are first learned from
RUN_WORDS = 4  # words in a row that two calls share: enough to be one template
PART_BYTES = 32 << 20  # JSONL bytes per partition
# Parquet rows decoded at a time: as Python objects, few enough to die young (rows that outlive
# the collector's young generations make it traverse every object of the process) and to hold
# little memory
BATCH_ROWS = 256
READ_BUFFER = 64 << 10  # bytes read ahead per Parquet column: a row group has a dozen or more
PROBLEMS_KEPT = 20  # per partition; the rest are counted
WILD = "{*}"
LOG_SUFFIXES = (".jsonl", ".parquet")
TIME_FIELDS = ("timestamp", "created_at", "time", "ts", "created")

# what a fill looks like, most specific first; each becomes a placeholder while learning
_MASKS = (
    (re.compile(r"```.*?```", re.S), "{code}"),
    (re.compile(r"<([A-Za-z][\w-]*)>.*?</\1>", re.S), r"<\1>{text}</\1>"),
    (re.compile(r'"[^"\n]{0,2000}"|\u201c[^\u201d\n]{0,2000}\u201d'), "{quoted}"),
    (re.compile(r"https?://\S+"), "{url}"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "{email}"),
    (re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"), "{id}"),
    (re.compile(r"\b(?=\w*\d)(?=\w*[A-Za-z])[\w-]{6,}\b"), "{id}"),
    (re.compile(r"[-+]?\d+(?:[.,:/-]\d+)*"), "{number}"),
)
_TOKEN = re.compile(r"\{[a-z*]+\}|\w+|\s+|[^\w\s]")
_PLACEHOLDER = re.compile(r"\{[a-z]+\}")


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Call:
    roles: tuple[str, ...]  # ("prompt",) for a completions prompt
    texts: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    capped: bool  # finish_reason "length": the call ran to its max_tokens
    model: str | None
    time: float | None  # seconds since the epoch


def parse(record: dict) -> Call:
    """One log record; InputError says what is missing."""
    if not isinstance(record, dict):
        raise InputError("not a JSON object")
    request, response = _side(record, "request"), _side(record, "response")
    roles, texts = _messages(request)
    usage = response.get("usage") or record.get("usage") or {}
    try:
        prompt_tokens, completion_tokens = int(usage["prompt_tokens"]), int(usage.get("completion_tokens") or 0)
    except (KeyError, TypeError, ValueError):
        raise InputError("no usage.prompt_tokens: the log must hold the responses' usage") from None
    choices = response.get("choices") or ()
    capped = any(isinstance(c, dict) and c.get("finish_reason") == "length" for c in choices)
    model = request.get("model") or response.get("model")
    return Call(roles, texts, prompt_tokens, completion_tokens, capped, model, _time(record, response))


def _side(record: dict, name: str) -> dict:
    """The request or the response: nested under its name (and a batch file's `body`) or flat."""
    side = record.get(name)
    side = side if isinstance(side, dict) else record
    body = side.get("body")
    return body if isinstance(body, dict) else side


def _messages(request: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    messages = request.get("messages")
    if isinstance(messages, list) and messages:
        roles = tuple(str(m.get("role", "user")) if isinstance(m, dict) else "user" for m in messages)
        return roles, tuple(_content(m.get("content") if isinstance(m, dict) else m) for m in messages)
    prompt = request.get("prompt")
    if isinstance(prompt, list) and prompt:
        prompt = prompt[0]
    if isinstance(prompt, str):
        return ("prompt",), (prompt,)
    raise InputError("no messages and no prompt in the request")


def _content(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: the text ones
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _time(record: dict, response: dict) -> float | None:
    for name in TIME_FIELDS:
        value = record.get(name, response.get(name))
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            return float(value) / (1000 if value > 1e11 else 1)  # milliseconds when too large for seconds
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


# ---------------------------------------------------------------- files and partitions


@dataclass(frozen=True)
class Part:
    """A piece of one log file: a JSONL byte range [start, end), or Parquet row group `start`."""

    path: str
    kind: str  # jsonl | parquet
    start: int
    end: int


def log_files(paths: Iterable[str]) -> list[str]:
    """The log files under `paths`, folders walked in name order."""
    files = []
    for path in map(str, paths):
        if path == "-":
            raise InputError("--logs reads files, not stdin: save the log to a file first")
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(LOG_SUFFIXES)]
        elif not os.path.exists(path):
            raise InputError(f"{shown(path)}: no such file or folder: check the path")
        elif path.endswith(LOG_SUFFIXES):
            files.append(path)
        else:
            raise InputError(f"{shown(path)}: a log is .jsonl or .parquet")
    if not files:
        raise InputError("no .jsonl or .parquet log files in the given paths")
    return files


def looks_like_log(paths: Iterable[str]) -> bool:
    """True when every path is a .parquet file or a .jsonl file whose first record has `usage`."""
    paths = [str(p) for p in paths]
    return bool(paths) and all(os.path.isfile(p) and _is_log_file(p) for p in paths)


def _is_log_file(path: str) -> bool:
    if path.endswith(".parquet"):
        return True
    if not path.endswith(".jsonl"):
        return False
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                try:
                    record = json.loads(line)
                except ValueError:
                    return False
                return isinstance(record, dict) and "usage" in _side(record, "response") | record
    return False


def partitions(files: Iterable[str], part_bytes: int = PART_BYTES) -> list[Part]:
    """Every file cut into partitions, in file order."""
    parts = []
    for path in files:
        if path.endswith(".parquet"):
            groups = _parquet(path).metadata.num_row_groups
            parts += [Part(path, "parquet", i, i + 1) for i in range(groups)]
        else:
            size = os.path.getsize(path)
            parts += [Part(path, "jsonl", s, min(s + part_bytes, size)) for s in range(0, max(size, 1), part_bytes)]
    return parts


def _parquet(path: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet logs needs pyarrow: pip install 'promptslim[logs]'") from None
    try:
        # pages are read as they are decoded, not a whole row group's columns at once
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER)
    except Exception as exc:  # pyarrow raises its own error kinds for a damaged file
        raise InputError(f"{shown(path)}: not a readable Parquet file ({shown(exc)})") from None


def _parquet_records(part: Part) -> Iterator[tuple[dict, str]]:
    import pyarrow as pa

    where = f"{shown(part.path)}:row-group-{part.start}"
    # one decoding thread: each partition is one process's work, and more threads hold more of
    # the row group decoded at once
    batches = _parquet(part.path).iter_batches(batch_size=BATCH_ROWS, row_groups=[part.start], use_threads=False)
    try:
        for batch in batches:
            for row in batch.to_pylist():
                yield row, where
    finally:  # also when the reader stops early (learning reads the first records only)
        batches = batch = None  # the reader and the last batch, dropped so that their buffers go
        pa.default_memory_pool().release_unused()  # the row group's buffers, back to the system


def records(part: Part) -> Iterator[tuple[dict | None, str]]:
    """(record, where) for each record of the partition; record None when the line is not JSON."""
    if part.kind == "parquet":
        yield from _parquet_records(part)
        return
    with open(part.path, "rb") as f:
        if part.start:
            f.seek(part.start - 1)
            f.readline()  # the line that started before this range belongs to the one before
        pos = f.tell()
        while pos < part.end:
            line = f.readline()
            if not line:
                break
            where, pos = f"{shown(part.path)}@{pos}", pos + len(line)
            if line.strip():
                try:
                    yield json.loads(line), where
                except ValueError:
                    yield None, where


# ---------------------------------------------------------------- aggregates


@dataclass
class Group:
    """What the calls of one template add up to; merged exactly by adding."""

    calls: int = 0
    prompt_tokens: Counter = field(default_factory=Counter)  # tokens -> calls
    completion_tokens: Counter = field(default_factory=Counter)
    capped: int = 0
    models: Counter = field(default_factory=Counter)

    def add(self, call: Call) -> None:
        self.calls += 1
        self.prompt_tokens[call.prompt_tokens] += 1
        self.completion_tokens[call.completion_tokens] += 1
        self.capped += call.capped
        self.models[call.model or ""] += 1

    def merge(self, other: Group) -> None:
        self.calls += other.calls
        self.prompt_tokens.update(other.prompt_tokens)
        self.completion_tokens.update(other.completion_tokens)
        self.capped += other.capped
        self.models.update(other.models)


def mean(histogram: Counter) -> float:
    total = sum(histogram.values())
    return sum(v * n for v, n in histogram.items()) / total if total else 0.0


def percentile(histogram: Counter, share: float) -> int:
    """The nearest-rank percentile of a histogram of values."""
    rank, seen = math.ceil(share * sum(histogram.values())), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return 0


@dataclass
class Partial:
    """One partition's counts: by template index, and by masked text for calls no template took."""

    matched: dict[int, Group] = field(default_factory=dict)
    unmatched: dict[tuple, Group] = field(default_factory=dict)
    records: int = 0
    first: float | None = None
    last: float | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def merge(self, other: Partial) -> None:
        for mine, theirs in ((self.matched, other.matched), (self.unmatched, other.unmatched)):
            for key, group in theirs.items():
                mine.setdefault(key, Group()).merge(group)
        self.records += other.records
        times = [t for t in (self.first, self.last, other.first, other.last) if t is not None]
        self.first, self.last = (min(times), max(times)) if times else (None, None)
        self.problems += other.problems[: max(0, PROBLEMS_KEPT - len(self.problems))]
        self.problem_count += other.problem_count


def scan(part: Part, templates: tuple[Template, ...]) -> Partial:
    """Count one partition's calls against the templates: the work a process or a Dask worker does."""
    partial = Partial()
    by_roles: dict[tuple, list[tuple[int, Template]]] = {}
    for index, template in enumerate(templates):
        by_roles.setdefault(template.roles, []).append((index, template))
    for record, where in records(part):
        partial.records += 1
        try:
            call = parse(record) if record is not None else None
        except InputError as exc:
            _problem(partial, where, str(exc))
            continue
        if call is None:
            _problem(partial, where, "not JSON")
            continue
        if call.time is not None:
            partial.first = call.time if partial.first is None else min(partial.first, call.time)
            partial.last = call.time if partial.last is None else max(partial.last, call.time)
        index = next((i for i, t in by_roles.get(call.roles, ()) if t.matches(call.texts)), None)
        if index is not None:
            group = partial.matched.get(index) or partial.matched.setdefault(index, Group())
        else:
            group = partial.unmatched.setdefault(masked_key(call), Group())
        group.add(call)
    return partial


def _problem(partial: Partial, where: str, message: str) -> None:
    partial.problem_count += 1
    if len(partial.problems) < PROBLEMS_KEPT:
        partial.problems.append(Problem(where, message))


# ---------------------------------------------------------------- templates


def mask(text: str) -> str:
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return text


def masked_key(call: Call) -> tuple:
    return (call.roles, tuple(mask(t) for t in call.texts))


@dataclass(frozen=True)
class Template:
    """Messages of literal text with wildcards; `pieces[i]` is message i's literal runs."""

    roles: tuple[str, ...]
    pieces: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, roles: tuple[str, ...], tokens: list[list[str]]) -> Template:
        pieces = []
        for message in tokens:
            text = "".join(WILD if _PLACEHOLDER.fullmatch(t) else t for t in message)
            pieces.append(tuple(re.sub(r"\{\*\}(?:\s*\{\*\})*", WILD, text).split(WILD)))
        return cls(roles, tuple(pieces))

    @property
    def tokens(self) -> list[list[str]]:
        return [_TOKEN.findall(WILD.join(p)) for p in self.pieces]

    @property
    def text(self) -> str:
        """The template for reports: its messages, variable parts as {*}."""
        texts = [WILD.join(p) for p in self.pieces]
        if self.roles == ("prompt",):
            return texts[0]
        return "\n\n".join(f"{role}: {text}" for role, text in zip(self.roles, texts))

    @property
    def messages(self) -> list[dict]:
        return [{"role": r, "content": WILD.join(p)} for r, p in zip(self.roles, self.pieces)]

    @property
    def literal(self) -> tuple[str, ...]:
        """The messages' literal text, wildcards dropped."""
        return tuple("".join(p) for p in self.pieces)

    @property
    def fixed_words(self) -> int:
        return sum(1 for m in self.tokens for t in m if _word(t))

    def matches(self, texts: tuple[str, ...]) -> bool:
        return all(_fits(p, t) for p, t in zip(self.pieces, texts))


def _fits(pieces: tuple[str, ...], text: str) -> bool:
    """Whether the text is the literal pieces with anything between them (leftmost search is exact)."""
    if len(pieces) == 1:
        return text == pieces[0]
    first, last = pieces[0], pieces[-1]
    end = len(text) - len(last)
    if end < len(first) or not text.startswith(first) or not text.endswith(last):
        return False
    pos = len(first)
    for piece in pieces[1:-1]:
        found = text.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def learn(keys: Iterable[tuple[tuple, int]], known: Iterable[Template] = ()) -> list[Template]:
    """Templates for masked calls (key, calls), starting from `known`; deterministic for a given set."""
    clusters: list[_Cluster] = [_Cluster(t.roles, t.tokens) for t in known]
    for (roles, texts), _ in sorted(keys, key=lambda kc: (-kc[1], kc[0])):
        call = _Cluster(roles, [_TOKEN.findall(t) for t in texts])
        for i, cluster in enumerate(clusters):
            if cluster.roles == roles:
                merged = _align_all(cluster, call)
                if merged is not None:
                    clusters[i] = _Cluster(roles, merged)
                    break
        else:
            clusters.append(call)
    templates = _absorbed([Template.of(c.roles, c.tokens) for c in clusters])
    return _absorbed(_whole_fills(templates))


class _Cluster:
    """A template while it is learned: its tokens, and each message's words counted once."""

    __slots__ = ("roles", "tokens", "words")

    def __init__(self, roles: tuple, tokens: list[list[str]]):
        self.roles, self.tokens = roles, tokens
        self.words = [Counter(t for t in m if _word(t)) for m in tokens]


def _absorbed(templates: list[Template]) -> list[Template]:
    """Each template that another one covers (its literal text, wildcards dropped, fits the other)
    replaced by that one, the earlier where both cover each other: two long fills learned first
    share too few words to align, but once a template has widened it takes them both. Positions
    are kept, so indices hold."""
    kept = list(templates)
    while True:
        first = {}
        for i, t in enumerate(kept):
            first.setdefault(t, i)
        wide = [t for t in first if t.fixed_words >= 3 and any(len(p) > 1 for p in t.pieces)]
        replace = {}
        for narrow in first:
            cover = next((w for w in wide if w != narrow and _covers(w, narrow, first[w] < first[narrow])), None)
            if cover is not None:
                replace[narrow] = cover
        if not replace:
            return kept
        kept = [replace.get(t, t) for t in kept]


def _covers(wide: Template, narrow: Template, earlier: bool) -> bool:
    if wide.roles != narrow.roles or not wide.matches(narrow.literal):
        return False
    return earlier or not narrow.matches(wide.literal)  # each other: the earlier one stays


def _whole_fills(templates: list[Template]) -> list[Template]:
    """Literal templates (one call each, nothing learned) of a chat that differ in one message
    only become one template with that message a wildcard: a message that is wholly a fill.
    Done after learning, so that a message shared with real templates does not swallow them."""
    kept = list(templates)
    for index in range(max((len(t.roles) for t in kept), default=0)):
        groups: dict[tuple, list[Template]] = {}
        for t in kept:
            if len(t.roles) > 1 and index < len(t.roles) and all(len(p) == 1 for p in t.pieces):
                groups.setdefault((t.roles, t.pieces[:index], t.pieces[index + 1 :]), []).append(t)
        for (roles, before, after), members in groups.items():
            if len(members) > 1:
                wide = Template(roles, (*before, ("", ""), *after))
                kept = [wide if t in members else t for t in kept]
    return kept


def _align_all(template: _Cluster, call: _Cluster) -> list[list[str]] | None:
    """The template narrowed to what the call shares with it, or None when they are not one
    template. In every message, half of the shorter side's words must line up (a long fill
    learned first must not keep its words "fixed"), or a run of RUN_WORDS words."""
    pairs = list(zip(template.tokens, call.tokens, template.words, call.words))
    for _, _, words_a, words_b in pairs:  # counted words first: cheap, before any alignment
        count_a, count_b = words_a.total(), words_b.total()
        bound = (words_a & words_b).total()
        if (not count_a or not count_b) and count_a != count_b:
            return None
        if 2 * bound < min(count_a, count_b) and bound < RUN_WORDS:
            return None
    merged = []
    for a, b, words_a, words_b in pairs:
        if a == b:
            merged.append(a)
            continue
        fixed = min(words_a.total(), words_b.total())
        message, matched, longest = _align(a, b)
        if fixed and (2 * matched < fixed or matched < min(fixed, 3)) and longest < RUN_WORDS:
            return None
        merged.append(message)
    return merged


def _align(template: list[str], call: list[str]) -> tuple[list[str], int, int]:
    """The template's message narrowed to the words the call shares with it, how many those
    are, and the longest run of them."""
    matcher = SequenceMatcher(None, template, call, autojunk=False)
    merged: list[str] = []
    matched = longest = i = j = 0
    for a, b, size in matcher.get_matching_blocks():
        if (a > i or b > j) and merged[-1:] != [WILD]:
            merged.append(WILD)
        block = template[a : a + size]
        merged += block
        words = sum(1 for t in block if _word(t))
        matched, longest = matched + words, max(longest, words)
        i, j = a + size, b + size
    return merged, matched, longest


def _word(token: str) -> bool:
    return not token.isspace() and token != WILD and not _PLACEHOLDER.fullmatch(token)
