"""SQLite (WAL) store of model calls, so a rerun reuses finished work.

A call is keyed by the model's identity (file hash, or endpoint + name), the rendered prompt,
the call options and the seed. Each call is committed as soon as it finishes: a run killed at
any point resumes without redoing finished calls, and WAL keeps the file consistent.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path

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
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_cache_dir() / "calls.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)
            self._db.commit()

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT completion FROM calls WHERE key = ?", (key,)).fetchone()
        return Completion(**json.loads(row[0])) if row else None

    def put(self, key: str, model_identity: str, prompt: Prompt, options: CallOptions, completion: Completion) -> None:
        record = json.dumps(asdict(completion), ensure_ascii=False)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, model, prompt, options, completion, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key,
                    model_identity,
                    json.dumps(prompt.to_json(), ensure_ascii=False),
                    json.dumps(options.key()),
                    record,
                    time.time(),
                ),
            )
            self._db.commit()

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
