"""Files in and out: one reader for every input, atomic writes for every output.

Reading: a path or "-" (stdin). Folders, devices, FIFOs and sockets are refused before a
byte is read; never more than the limit is read, whatever the file claims its size is. Text
is UTF-8 (UTF-16 and UTF-32 with a byte-order mark are decoded too); a file with NUL bytes is
binary. JSON and YAML go through one loader whose errors name the line.

Writing: a temporary file in the target's folder, flushed to disk, then renamed over the
target. A crash, Ctrl-C or a second writer never leaves a truncated or mixed file: each
writer's result is complete, and the last rename wins. Outputs are checked against the
inputs (resolved, and by inode) before any work starts.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import yaml

from .errors import InputError, RuntimeFailure

STDIN = "-"
MAX_INPUT_BYTES = 64_000_000  # a prompt, spec or cases file larger than this is refused unread
MAX_ALIASES = 100  # YAML aliases in one document: more is a "billion laughs", not a spec
# byte-order marks, longest first: UTF-32 LE starts with the UTF-16 LE mark
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# characters that would break a one-line message or a table: C0/C1 controls, line and
# paragraph separators, bidirectional overrides; and lone surrogates (undecodable bytes)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class FileProblem(InputError):
    """A file that cannot be used. `reason` is the message without the file's name; `skip`
    marks a file that is simply not text (binary), which a corpus scan notes and passes over."""

    def __init__(self, name: str, reason: str, *, skip: bool = False):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason, self.skip = name, reason, skip


# ---------------------------------------------------------------- names


def shown(value: object) -> str:
    """A path or name as one printable line: control characters, separators and undecodable
    bytes become escapes (\\x1b, \\n, \\xff), so a file name cannot forge report rows or
    terminal output, and every report stays valid UTF-8."""
    return _UNSAFE.sub(_escape, str(value))


def _escape(match: re.Match) -> str:
    ch = match.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def megabytes(size: int, other: int | None = None) -> str:
    """`size` in MB, with as many digits as it takes to differ from `other` (a limit)."""
    for digits in range(3, 17):
        text = f"{size / 1e6:.{digits}g}"
        if other is None or text != f"{other / 1e6:.{digits}g}":
            return f"{text} MB"
    return f"{size:,} bytes"


def too_large(name: str, size: int | None, limit: int, fix: str) -> FileProblem:
    """`size` None: only known to be over the limit (stdin, a growing file, a long line)."""
    what = "over" if size is None else f"{megabytes(size, limit)} is over"
    return FileProblem(name, f"{what} the {megabytes(limit)} limit: {fix}")


# ---------------------------------------------------------------- reading


def open_regular(path: str | Path) -> BinaryIO:
    """`path` opened for reading, if it is a regular file: a folder, device, FIFO or socket is
    refused before anything is read (a FIFO is opened without waiting for a writer)."""
    name = shown(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileProblem(name, "no such file: check the path") from None
    except IsADirectoryError:
        raise FileProblem(name, "is a folder: give a file") from None
    except OSError as exc:
        raise FileProblem(name, f"cannot read ({exc.strerror or exc}): check its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FileProblem(name, "is a folder: give a file")
        if not stat.S_ISREG(mode):
            raise FileProblem(name, "is a device, FIFO or socket, not a file: give a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(
    source: str | Path, *, limit: int = MAX_INPUT_BYTES, fix: str = "split it", stdin: BinaryIO | None = None
) -> bytes:
    """A whole file, or stdin for "-"; at most `limit` bytes are ever read."""
    if str(source) == STDIN:
        return _read_stdin(stdin, limit, fix)
    with open_regular(source) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise too_large(shown(source), size, limit, fix)
        try:
            data = f.read(limit + 1)  # /proc files claim 0 bytes; a file may grow meanwhile
        except OSError as exc:
            raise FileProblem(shown(source), f"cannot read ({exc.strerror or exc}): check the file") from None
    if len(data) > limit:
        raise too_large(shown(source), None, limit, fix)
    return data


def _read_stdin(stream: BinaryIO | None, limit: int, fix: str) -> bytes:
    if stream is None:
        stream = getattr(sys.stdin, "buffer", None)  # None when stdin is closed (`<&-`)
    if stream is None:
        raise FileProblem("<stdin>", "stdin is closed: pipe the input in, or give a file path")
    try:
        data = stream.read(limit + 1)
    except (OSError, ValueError) as exc:
        raise FileProblem("<stdin>", f"cannot read ({getattr(exc, 'strerror', None) or exc}): give a file") from None
    if len(data) > limit:
        raise too_large("<stdin>", None, limit, fix)
    return data


def encoding_of(head: bytes) -> tuple[str, str]:
    """The codec and the name of a text's encoding, from its byte-order mark (UTF-8 without one)."""
    for bom, codec, label in BOMS:
        if head.startswith(bom):
            return codec, label
    return "utf-8", "UTF-8"


def decode(data: bytes, name: str) -> str:
    """Bytes as text: UTF-8, or UTF-16/32 with their byte-order mark; NUL bytes mean binary."""
    codec, label = encoding_of(data[:4])
    if codec == "utf-8" and b"\x00" in data:
        raise FileProblem(name, "binary (NUL bytes): give a text file", skip=True)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise FileProblem(name, f"not valid {label} (byte {exc.start}): re-save it as UTF-8") from None


def read_text(
    source: str | Path, *, limit: int = MAX_INPUT_BYTES, fix: str = "split it", stdin: BinaryIO | None = None
) -> str:
    """A text file (or stdin for "-"), checked and decoded; errors name it and the fix."""
    name = "<stdin>" if str(source) == STDIN else shown(source)
    return decode(read_bytes(source, limit=limit, fix=fix, stdin=stdin), name)


# ---------------------------------------------------------------- JSON and YAML


class _Duplicate(ValueError):
    pass


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, counting aliases (a few are convenient, thousands are a bomb) and,
    when `unique` is set, refusing a key given twice in one mapping (the last would silently win)."""

    unique = False

    def construct_mapping(self, node, deep=False):
        if self.unique and isinstance(node, yaml.MappingNode):
            seen = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in seen:
                        problem = f"the key '{shown(key.value)}' appears twice: keep one"
                        raise yaml.MarkedYAMLError(problem=problem, problem_mark=key.start_mark)
                    seen.add(key.value)
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases = getattr(self, "aliases", 0) + 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.MarkedYAMLError(problem=f"more than {MAX_ALIASES} aliases", problem_mark=mark)
        return super().compose_node(parent, index)


def is_json_name(name: str | Path) -> bool:
    return str(name).lower().endswith(".json")


def parse(text: str, name: str, *, as_json: bool) -> Any:
    """JSON or YAML (safe: plain data only) from text; errors name the line."""
    return parse_with_lines(text, name, as_json=as_json, with_lines=False)[0]


def parse_with_lines(
    text: str, name: str, *, as_json: bool, unique_keys: bool = False, with_lines: bool = True
) -> tuple[Any, dict[str, int]]:
    """The data, and (`with_lines`) the line of each top-level key of a mapping, for error messages.
    `unique_keys`: a key given twice in one mapping is an error, not the last one winning."""
    try:
        if as_json:
            data = check_text(json.loads(text, object_pairs_hook=_unique_pairs if unique_keys else None), name)
            keyed = with_lines and isinstance(data, dict)  # a scan of the text per key: only where asked
            return data, ({k: _json_line(text, k) for k in data} if keyed else {})
        loader = _Loader(text)
        loader.unique = unique_keys
        try:
            node = loader.get_single_node()
            data = check_text(loader.construct_document(node), name) if node is not None else None
        finally:
            loader.dispose()
        keyed = with_lines and isinstance(node, yaml.MappingNode)
        return data, ({k.value: k.start_mark.line + 1 for k, _ in node.value} if keyed else {})
    except json.JSONDecodeError as exc:
        raise FileProblem(f"{name}:{exc.lineno}", f"not valid JSON ({exc.msg}): fix the syntax") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FileProblem(where, f"not valid YAML ({problem}): fix the syntax") from None
    except RecursionError:
        raise FileProblem(name, "nested too deeply to be a spec or a prompt: flatten it") from None
    except _Duplicate as exc:
        line = _json_line(text, exc.args[0])
        raise FileProblem(
            f"{name}:{line}" if line else name, f"the key '{shown(exc.args[0])}' appears twice: keep one"
        ) from None
    except (TypeError, ValueError) as exc:  # YAML keys that cannot be dict keys, numbers out of range
        raise FileProblem(name, f"cannot be read as data ({exc}): fix the file") from None


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: Any, name: str) -> Any:
    """`value` (text, or data holding text), unless a string in it holds a lone surrogate: JSON
    can escape one (\\udcff) though it is not text, and no model, tokenizer or file takes it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                code = f"\\u{ord(found.group()):04x}"
                raise FileProblem(name, f"holds {code}, a lone surrogate, which is not text: fix that escape")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict:
    data = {}
    for key, value in pairs:
        if key in data:
            raise _Duplicate(key)
        data[key] = value
    return data


def _json_line(text: str, key: object) -> int | None:
    match = re.search(rf'"{re.escape(str(key))}"\s*:', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


# ---------------------------------------------------------------- paths


def inside(path: str | Path, folder: str | Path) -> bool:
    """Does `path`, with every symlink resolved, lie in `folder`?"""
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def same_file(a: str | Path, b: str | Path) -> bool:
    """The same file, through links, hard links or different spellings of the path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(path: str | Path, *, option: str, inputs: Iterable[str | Path] = ()) -> Path:
    """Before any work: an output file can be written where it is asked for, and it is none of
    the inputs. Every problem is an InputError naming the option, the path and the fix."""
    out = Path(path)
    name = f"{option} {shown(out)}"
    if out.is_dir():
        raise InputError(f"{name}: is a folder: give a file name")
    folder = out.absolute().parent
    if not folder.is_dir():
        raise InputError(f"{name}: there is no folder {shown(folder)}: create it first, or write elsewhere")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{name}: cannot write in {shown(folder)}: check its permissions")
    for source in inputs:
        if str(source) != STDIN and same_file(out, source):
            raise InputError(f"{name}: that is the input {shown(source)}: write the output elsewhere")
    return out


def prepare_folder(path: str | Path, *, option: str) -> Path:
    """An output folder, created if needed, before any work is done in it."""
    out = Path(path)
    name = f"{option} {shown(out)}"
    if out.exists() and not out.is_dir():
        raise InputError(f"{name}: exists and is not a folder: give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(f"{name}: cannot create the folder ({reason}): give a folder you can write in") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"{name}: cannot write in this folder: check its permissions")
    return out


# ---------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_writer(path: str | Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """A text file (UTF-8) that appears at `path` complete or not at all.

    The text goes to a temporary file beside the target, is flushed to disk and renamed over
    it; on any error (Ctrl-C included) the temporary file goes and the target is untouched.
    Through a symlink, the file it points to is replaced. A device or FIFO (/dev/null) is
    written as it is: a stream has nothing to rename over. Characters that UTF-8 cannot hold
    (lone surrogates from a JSON escape) are written as backslash escapes."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "w", encoding="utf-8", errors="backslashreplace", newline=newline) as stream:
            yield stream
        return
    target = Path(os.path.realpath(path))
    temp, fd = _temporary(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of the file it replaces
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise RuntimeFailure(f"{shown(path)}: cannot write ({exc.strerror or exc}): check the disk") from None
        raise
    _sync_folder(target.parent)


def write_text(path: str | Path, text: str) -> Path:
    """`text` written to `path` atomically (see `atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(text)
    return Path(path)


def _temporary(target: Path) -> tuple[Path, int]:
    """A new file beside `target`, created with the usual permissions (0666 less the umask).
    It is hidden and ends in .tmp, so a corpus scan never takes it for a prompt."""
    try:
        for _ in range(100):
            temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
            try:
                return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            except FileExistsError:
                continue
    except OSError as exc:
        raise RuntimeFailure(f"{shown(target)}: cannot write ({exc.strerror or exc}): check the folder") from None
    raise RuntimeFailure(f"{shown(target)}: cannot create a temporary file beside it: clean up the folder")


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; elsewhere a folder cannot be opened)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
