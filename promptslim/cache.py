"""SQLite (WAL) store of model calls, so a rerun reuses finished work.

A call is keyed by the model's identity (file hash, or endpoint + name), the rendered prompt,
the call options and the seed. Each call is committed as soon as it finishes: a run killed at
any point resumes without redoing finished calls, and WAL keeps the file consistent. Several
processes may share one cache file: each write is one short transaction, and a writer that
finds the file busy waits for it (`timeout_s`) rather than failing.

    with CallCache() as cache:
        ...
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

from .errors import RuntimeFailure
from .files import shown
from .prompt import Prompt
from .runtime.base import CallOptions, Completion

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    options TEXT NOT NULL,
    completion TEXT NOT NULL,
    created REAL NOT NULL
)
"""
DEFAULT_TIMEOUT_S = 60.0
T = TypeVar("T")


def default_cache_dir() -> Path:
    configured = os.environ.get("PROMPTSLIM_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "promptslim"


def call_key(model_identity: str, prompt: Prompt, options: CallOptions) -> str:
    payload = json.dumps([model_identity, prompt.to_json(), options.key()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CallCache:
    """The call store; a context manager that closes its connection on exit."""

    def __init__(self, path: str | Path | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.path = Path(path) if path else default_cache_dir() / "calls.sqlite3"
        self.timeout_s = timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit: every statement is its own short transaction, so no read is ever
            # upgraded to a write (which SQLite refuses at once, busy timeout or not)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=timeout_s, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._failure("cannot open", exc) from None
        self._lock = threading.Lock()
        try:
            self._run(self._setup)
        except BaseException:
            self._db.close()
            raise

    def __enter__(self) -> CallCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _setup(db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(SCHEMA)

    def get(self, key: str) -> Completion | None:
        row = self._run(lambda db: db.execute("SELECT completion FROM calls WHERE key = ?", (key,)).fetchone())
        if row is None:
            return None
        try:
            return Completion(**json.loads(row[0]))
        except (ValueError, TypeError):  # a row this version cannot read: call the model again
            return None

    def put(self, key: str, model_identity: str, prompt: Prompt, options: CallOptions, completion: Completion) -> None:
        row = (
            key,
            model_identity,
            json.dumps(prompt.to_json(), ensure_ascii=False),
            json.dumps(options.key()),
            json.dumps(asdict(completion), ensure_ascii=False),
            time.time(),
        )
        self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO calls (key, model, prompt, options, completion, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """One operation, retried while another process holds the file (a lock SQLite's own
        busy timeout does not wait for, such as switching a new file to WAL), up to timeout_s."""
        deadline = time.monotonic() + self.timeout_s
        pause = 0.01
        while True:
            try:
                with self._lock:
                    return operation(self._db)
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise self._failure("cannot use", exc) from None
            except sqlite3.Error as exc:
                raise self._failure("cannot use", exc) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _failure(self, what: str, exc: Exception) -> RuntimeFailure:
        return RuntimeFailure(
            f"call cache {shown(self.path)}: {what} it ({exc}): delete the file, "
            "or set PROMPTSLIM_CACHE_DIR to another folder"
        )
