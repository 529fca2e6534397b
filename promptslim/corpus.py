"""Prompts from where teams keep them: folders, prompt files, specs, JSONL, CSV and stdin.

Everything is read lazily, one prompt at a time. A file that cannot be used is reported
(`Problem`) and the scan goes on; only a usage error (a path that does not exist, a CSV
without the named column) stops it. Symlinks that lead outside the given folders are not
followed, hidden and vendored folders (.git, .venv, node_modules) are not entered, and no
prompt larger than the size limit is read into memory.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from .errors import InputError
from .files import (
    FileProblem,
    check_text,
    encoding_of,
    inside,
    is_json_name,
    open_regular,
    parse,
    read_text,
    same_file,
    shown,
    too_large,
)
from .prompt import Prompt, is_messages, prompt_from_value

TEXT_SUFFIXES = (".txt", ".md", ".prompt")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
SUFFIXES = TEXT_SUFFIXES + SPEC_SUFFIXES + (".jsonl", ".csv")
STDIN = "-"
DEFAULT_MAX_PROMPT_BYTES = 8_000_000
_SNIFF = 8192  # bytes read to tell a binary file
TOO_LARGE_FIX = "split it, or raise --max-prompt-mb"
SKIPPED_FOLDERS = ("node_modules", "__pycache__", "site-packages", "venv")  # with hidden ones (.git, .venv): not yours
NAME_KEYS = ("id", "name")  # a record's own name for its prompt, shown beside its place


@dataclass(frozen=True)
class Item:
    """One prompt and where it came from."""

    source: str  # the file, or <stdin>
    id: str  # the file, or file:line for a JSONL or CSV record
    prompt: Prompt
    output_tokens: int | None = None  # a spec's max_tokens
    size: int = 0  # bytes of input it took, for progress
    name: str | None = None  # the record's own id or name, or the spec's name


@dataclass(frozen=True)
class Problem:
    source: str  # file, or file:line
    message: str
    failure: bool = True  # False: skipped on purpose (binary, not a spec), a note


@dataclass(frozen=True)
class Found:
    """The files a scan will read, found before reading any (paths only)."""

    files: tuple[str, ...]  # paths, and "-" for stdin
    notes: tuple[Problem, ...]
    total_bytes: int | None  # None when stdin is read
    given: frozenset[str] = frozenset()  # real paths of the files named on their own, not found in a folder


def discover(paths: Sequence[str | Path]) -> Found:
    """Expand folders (recursively, in name order) into the prompt files they hold."""
    if not paths:
        raise InputError("no input: give folders, prompt files, JSONL, CSV or spec files, or - for stdin")
    missing = [str(p) for p in paths if str(p) != STDIN and not os.path.exists(p)]
    if missing:
        raise InputError(f"{shown(missing[0])}: no such file or folder: check the path")
    roots = tuple(os.path.realpath(p) for p in paths if str(p) != STDIN and os.path.isdir(p))
    files: list[str] = []
    notes: list[Problem] = []
    for path in map(str, paths):
        if os.path.isdir(path):
            before = len(files)
            _walk(path, roots, files, notes, set())
            if len(files) == before:
                notes.append(
                    Problem(shown(path), f"no prompt files ({', '.join(SUFFIXES)}) in this folder", failure=False)
                )
        else:
            files.append(path)
    given = frozenset(os.path.realpath(p) for p in map(str, paths) if p != STDIN and not os.path.isdir(p))
    files = _once(files, notes)
    sizes = [_size(f) for f in files if f != STDIN]
    return Found(tuple(files), tuple(notes), None if STDIN in files else sum(sizes), given)


def _once(files: list[str], notes: list[Problem]) -> list[str]:
    """Each file once, however many paths reach it (a file and its folder, a link inside the
    folders), by its own path rather than a link's: a prompt counted twice would double its
    projected spend."""
    chosen: dict[str, str] = {}
    for path in files:
        real = path if path == STDIN else os.path.realpath(path)
        kept = chosen.setdefault(real, path)
        if kept is not path:
            if os.path.islink(kept) and not os.path.islink(path):
                chosen[real], path = path, kept
            notes.append(Problem(shown(path), "already included through another path: counted once", failure=False))
    return list(chosen.values())


def _walk(folder: str, roots: tuple[str, ...], files: list[str], notes: list[Problem], seen: set[str]) -> None:
    real = os.path.realpath(folder)
    if real in seen:  # a symlink loop inside the roots
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        notes.append(Problem(shown(folder), f"cannot list ({exc.strerror}): check its permissions"))
        return
    for entry in entries:
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            if not os.path.exists(target):
                notes.append(Problem(shown(entry.path), "broken symlink: skipped", failure=False))
                continue
            if not any(target == root or target.startswith(root + os.sep) for root in roots):
                notes.append(
                    Problem(shown(entry.path), "symlink to outside the audited folders: not followed", failure=False)
                )
                continue
        if entry.is_dir():
            if not entry.name.startswith(".") and entry.name not in SKIPPED_FOLDERS:
                _walk(entry.path, roots, files, notes, seen)
        elif entry.is_file() and entry.name.lower().endswith(SUFFIXES):
            files.append(entry.path)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def read(
    found: Found,
    *,
    field: str = "prompt",
    column: str = "prompt",
    max_bytes: int = DEFAULT_MAX_PROMPT_BYTES,
    stdin: BinaryIO | None = None,
) -> Iterator[Item | Problem]:
    """Every prompt of every file in turn, and a Problem for whatever could not be used."""
    yield from found.notes
    for path in found.files:
        if path == STDIN:
            yield _from_text(STDIN, "<stdin>", max_bytes, stdin)
            continue
        suffix = os.path.splitext(path)[1].lower()
        name = shown(path)
        try:
            if suffix == ".jsonl":
                yield from _from_jsonl(path, name, field, max_bytes)
            elif suffix == ".csv":
                yield from _from_csv(path, name, column, max_bytes, os.path.realpath(path) in found.given)
            elif suffix in SPEC_SUFFIXES:
                yield _from_spec(path, name, max_bytes)
            else:
                yield _from_text(path, name, max_bytes)
        except FileProblem as exc:
            yield _problem(name, exc)
        except OSError as exc:
            yield Problem(name, f"cannot read ({exc.strerror or exc}): check its permissions")


def _problem(source: str, exc: FileProblem) -> Problem:
    """A file the reader refused; a binary one is passed over with a note."""
    reason = exc.reason.replace("give a text file", "skipped") if exc.skip else exc.reason
    return Problem(source, reason, failure=not exc.skip)


def _text(path: str, max_bytes: int, stdin: BinaryIO | None = None) -> str:
    """A whole file as text, through the one checked reader (no more than the limit is read)."""
    return read_text(path, limit=max_bytes, fix=TOO_LARGE_FIX, stdin=stdin)


def _from_text(path: str, name: str, max_bytes: int, stdin: BinaryIO | None = None) -> Item | Problem:
    try:
        text = _text(path, max_bytes, stdin)
    except FileProblem as exc:
        return _problem(name, exc)
    prompt = _prompt_value(text, name)
    return Item(name, name, prompt, size=len(text)) if isinstance(prompt, Prompt) else prompt


def _from_spec(path: str, name: str, max_bytes: int) -> Item | Problem:
    """A promptslim spec's prompt, with its max_tokens as the answer length, or a file of chat
    messages; other YAML/JSON is skipped."""
    text = _text(path, max_bytes)
    try:
        spec = parse(text, name, as_json=is_json_name(path))
    except FileProblem as exc:
        return Problem(exc.name, exc.reason)
    if is_messages(spec):  # a file of chat messages alone
        spec = {"messages": spec}
    if not isinstance(spec, dict) or ("prompt" not in spec and "messages" not in spec):
        return Problem(name, "not a promptslim spec (no prompt or messages key): skipped", failure=False)
    key = "messages" if "messages" in spec else "prompt"
    prompt = _prompt_value(spec[key], name, key)
    if isinstance(prompt, Problem):
        return prompt
    max_tokens = spec.get("max_tokens")
    output = max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0 else None
    return Item(name, name, prompt, output, len(text), _name(spec))


def _encoding(f: BinaryIO, name: str) -> str:
    """A streamed file's encoding, from its first bytes (which are read again afterwards)."""
    head = f.read(_SNIFF)
    f.seek(0)
    codec, _ = encoding_of(head)
    if codec == "utf-8" and b"\x00" in head:
        raise FileProblem(name, "binary (NUL bytes): give a text file", skip=True)
    return codec


def _prompt_value(value, where: str, key: str | None = None) -> Prompt | Problem:
    """A prompt from a text or a list of chat messages."""
    label = f"{key}: " if key else ""
    try:
        prompt = prompt_from_value(value)
    except InputError as exc:
        return Problem(where, f"{label}{exc}")
    if not any(part.strip() for part in prompt.parts()):
        return Problem(where, f"{label}empty prompt: skipped", failure=False)
    return prompt


def _from_jsonl(path: str, name: str, field: str, max_bytes: int) -> Iterator[Item | Problem]:
    """One prompt per line, from `field`. A file whose first record lacks the field is not a
    prompt file (test cases, say) and is skipped with a note."""
    with open_regular(path) as f:
        if _encoding(f, name) != "utf-8":  # UTF-16 or UTF-32: whole, as text, then by line
            lines = (line.encode() for line in _text(path, max_bytes).splitlines(keepends=True))
            yield from _records(lines, name, field, max_bytes)
        else:
            yield from _records(_lines(f, max_bytes), name, field, max_bytes)


def _records(lines: Iterable[bytes | None], name: str, field: str, max_bytes: int) -> Iterator[Item | Problem]:
    first = True
    for number, line in enumerate(lines, 1):
        where = f"{name}:{number}"
        if line is None:
            yield _problem(where, too_large(where, None, max_bytes, TOO_LARGE_FIX))
            continue
        if not line.strip():
            continue
        record = _json_record(where, line)
        if isinstance(record, Problem):
            yield record
            continue
        if field not in record:
            if first:
                yield Problem(
                    name,
                    f"no '{field}' field in its first record: not a prompt file, skipped "
                    "(--field NAME names the field)",
                    failure=False,
                )
                return
            yield Problem(where, f"no '{field}' field: add it, or name the field with --field")
            continue
        first = False
        prompt = _prompt_value(record[field], where, field)
        yield Item(name, where, prompt, size=len(line), name=_name(record)) if isinstance(prompt, Prompt) else prompt


def _json_record(where: str, line: bytes) -> dict | Problem:
    try:
        record = check_text(json.loads(line.decode("utf-8-sig")), where)
    except FileProblem as exc:
        return Problem(where, exc.reason)
    except UnicodeDecodeError as exc:
        return Problem(where, f"not valid UTF-8 (byte {exc.start}): re-save the file as UTF-8")
    except ValueError as exc:
        return Problem(where, f"not valid JSON ({getattr(exc, 'msg', exc)}): fix or remove the line")
    except RecursionError:
        return Problem(where, "nested too deeply to be a prompt record: flatten it")
    return record if isinstance(record, dict) else Problem(where, "not a JSON object: each line needs one object")


def _lines(f: BinaryIO, max_bytes: int) -> Iterator[bytes | None]:
    """The file's lines; None for a line over the limit, which is skipped unread."""
    while True:
        line = f.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = f.readline(1 << 20)
            yield None
            continue
        yield line


def _from_csv(path: str, name: str, column: str, max_bytes: int, given: bool) -> Iterator[Item | Problem]:
    """One prompt per row, from `column`; fields of any size, quoted newlines included. A CSV
    without the column is not a prompt file (a spec's cases, say): skipped with a note when a
    folder scan found it, an input error when it was named on its own."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # the default 128 KB would reject long prompts
    with open_regular(path) as raw:
        encoding = _encoding(raw, name)
        f = io.TextIOWrapper(raw, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="")
        reader = csv.reader(f)
        line = 1
        try:
            header = next(reader, None)
            if header is None:
                yield Problem(name, "empty CSV: skipped", failure=False)
                return
            if column not in header:
                columns = shown(", ".join(header))
                if given:
                    raise InputError(
                        f"{name}: no column '{column}': its columns are {columns}: name one with --column NAME"
                    )
                yield Problem(
                    name,
                    f"no '{column}' column (its columns are {columns}): not a prompt file, skipped "
                    "(--column NAME names the column)",
                    failure=False,
                )
                return
            index, line = header.index(column), reader.line_num
            for row in reader:
                where, line = f"{name}:{line + 1}", reader.line_num
                item = _csv_item(name, where, row[index] if index < len(row) else "", max_bytes)
                yield replace(item, name=_name(dict(zip(header, row)))) if isinstance(item, Item) else item
        except UnicodeDecodeError as exc:
            yield Problem(f"{name}:{line + 1}", f"not valid UTF-8 ({exc.reason}): re-save the file as UTF-8")
        except csv.Error as exc:
            yield Problem(f"{name}:{reader.line_num}", f"not valid CSV ({exc}): fix the quoting")


def _csv_item(name: str, where: str, value: str, max_bytes: int) -> Item | Problem:
    if len(value) > max_bytes:  # characters: a lower bound on the bytes
        return _problem(where, too_large(where, len(value.encode("utf-8")), max_bytes, TOO_LARGE_FIX))
    prompt = _prompt_value(value, where)
    return Item(name, where, prompt, size=len(value)) if isinstance(prompt, Prompt) else prompt


def _name(record: dict) -> str | None:
    name = next((record[k] for k in NAME_KEYS if isinstance(record.get(k), (str, int)) and record[k] != ""), None)
    return None if name is None else str(name)


def is_input(output: str | Path, paths: Sequence[str | Path]) -> bool:
    """Would writing `output` replace a file the audit reads: a file named on its own (through
    any link, hard links included), or a prompt file inside an audited folder?"""
    if not os.path.exists(output):
        return False
    real = os.path.realpath(output)
    for path in map(str, paths):
        if path == STDIN:
            continue
        if os.path.isdir(path) and inside(real, path) and real.lower().endswith(SUFFIXES):
            return True
        if not os.path.isdir(path) and same_file(real, path):
            return True
    return False
