"""cache.py on its own: keys, round trips, a context manager, and several writers at once."""

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from promptslim.cache import CallCache, call_key
from promptslim.errors import RuntimeFailure
from promptslim.prompt import Prompt
from promptslim.runtime.base import CallOptions, Completion

OPTIONS = CallOptions(max_tokens=4)


def completion(text: str) -> Completion:
    return Completion(text, "m", 5, 1, 0.1, 0.1, 1.5, "cpu-estimate")


def put(cache: CallCache, n: int, identity: str = "model") -> str:
    prompt = Prompt(f"prompt {n}")
    key = call_key(identity, prompt, OPTIONS)
    cache.put(key, identity, prompt, OPTIONS, completion(f"answer {n}"))
    return key


def rows(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]


def test_keys_depend_on_model_prompt_and_options():
    prompt = Prompt("hi")
    key = call_key("a", prompt, OPTIONS)
    assert key == call_key("a", Prompt("hi"), CallOptions(max_tokens=4))
    assert len({key, call_key("b", prompt, OPTIONS), call_key("a", Prompt("hi!"), OPTIONS)}) == 3
    assert key != call_key("a", prompt, CallOptions(max_tokens=4, seed=1))
    assert key != call_key("a", Prompt.of([{"role": "user", "content": "hi"}]), OPTIONS)


def test_a_call_round_trips_and_a_miss_is_none(tmp_path):
    with CallCache(tmp_path / "c.sqlite3") as cache:
        key = put(cache, 1)
        assert cache.get(key) == completion("answer 1")
        assert cache.get("0" * 64) is None
    with CallCache(tmp_path / "c.sqlite3") as again:  # committed: another connection sees it
        assert again.get(key).text == "answer 1"


def test_the_context_manager_closes_the_connection(tmp_path):
    with CallCache(tmp_path / "c.sqlite3") as cache:
        pass
    with pytest.raises(RuntimeFailure, match="cannot use it"):
        cache.get("x")


def test_a_row_this_version_cannot_read_is_a_miss(tmp_path):
    with CallCache(tmp_path / "c.sqlite3") as cache:
        key = put(cache, 1)
        with sqlite3.connect(cache.path) as db:
            db.execute("UPDATE calls SET completion = ?", ('{"text": "x", "unknown_field": 1}',))
        assert cache.get(key) is None


def test_a_file_that_is_not_a_database_is_a_runtime_failure(tmp_path):
    (tmp_path / "c.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(RuntimeFailure, match="delete the file, or set PROMPTSLIM_CACHE_DIR"):
        CallCache(tmp_path / "c.sqlite3")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RuntimeFailure, match="cannot open"):
        CallCache(tmp_path / "file" / "c.sqlite3")  # its folder is a file


def test_threads_share_one_cache(tmp_path):
    with CallCache(tmp_path / "c.sqlite3") as cache:
        threads = [threading.Thread(target=lambda i=i: [put(cache, i * 100 + n) for n in range(50)]) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert rows(tmp_path / "c.sqlite3") == 200


def _writer(path: str, start: int, count: int, barrier) -> None:
    barrier.wait()  # every process opens the new file at the same moment
    with CallCache(path) as cache:
        for n in range(start, start + count):
            put(cache, n)


def test_processes_opening_and_writing_one_new_file_at_once_lose_nothing(tmp_path):
    context = multiprocessing.get_context("fork")
    for trial in range(15):  # switching a new file to WAL raced ("database is locked") about one time in ten
        path = str(tmp_path / f"c{trial}.sqlite3")
        barrier = context.Barrier(4)
        workers = [context.Process(target=_writer, args=(path, i * 1000, 40, barrier)) for i in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0]  # no "database is locked"
        assert rows(path) == 160


WRITE_FOREVER = """
import sys
from promptslim.cache import CallCache, call_key
from promptslim.prompt import Prompt
from promptslim.runtime.base import CallOptions, Completion
cache = CallCache(sys.argv[1])
done = Completion("x" * 500, "m", 1, 1, 0, 0, 0, "e")
n = 0
while True:
    prompt = Prompt(f"prompt {n}")
    cache.put(call_key("m", prompt, CallOptions()), "m", prompt, CallOptions(), done)
    n += 1
"""


def test_a_writer_killed_at_any_moment_leaves_a_sound_file(tmp_path):
    path = tmp_path / "c.sqlite3"
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITE_FOREVER, str(path)])
        time.sleep(0.4)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with CallCache(path) as cache:
        assert cache.get(call_key("m", Prompt("prompt 0"), CallOptions())).text == "x" * 500
