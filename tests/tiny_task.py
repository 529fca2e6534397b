"""The tiny sentiment task that optimize runs against real llama.cpp servers: 6 cases, 3 output
tokens, 2 candidates, no pruning. Runs go through the CLI; what they decide is compared."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

TINY = ROOT / "tests" / "data" / "tiny-sentiment.yaml"
SMALL = ["--max-candidates", "2", "--model", "smollm2", "--json"]
# no pruning variants: pruning runs the local model, minutes of CPU on a busy 2-core machine
# (with no local GGUF to be found, optimize leaves them out); --model names the endpoint's model
NO_PRUNING = {"PROMPTSLIM_MODEL": "/nonexistent/no-pruning.gguf"}


def tiny_spec(folder: Path) -> Path:
    """The tiny sentiment task cut to 6 cases and 3 output tokens, with its cases beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = (TINY.parent / "tiny-sentiment.cases.jsonl").read_text().splitlines()[:6]
    (folder / "tiny-sentiment.cases.jsonl").write_text("\n".join(cases) + "\n")
    path = folder / "spec.yaml"
    path.write_text(TINY.read_text().replace("max_tokens: 24", "max_tokens: 3"))
    return path


def optimize_command(spec: Path, url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "promptslim", "optimize", str(spec), "--base-url", url, *SMALL, *args]


def optimize_env(cache: Path, env: dict | None = None) -> dict:
    return {**os.environ, **NO_PRUNING, "PROMPTSLIM_CACHE_DIR": str(cache), **(env or {})}


def optimize(spec: Path, url: str, cache: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = optimize_command(spec, url, *args)
    return subprocess.run(command, capture_output=True, text=True, env=optimize_env(cache, env), timeout=600)


def outcome(stdout: str) -> dict:
    """What a run decided, without what varies from run to run (energy, time, cache counts)."""
    report = json.loads(stdout)
    variants = [
        (v["id"], v["prompt"], v["max_tokens"], v["score"], v["score_ci"], v["calls"], v["status"], v["prompt_tokens"])
        for v in report["variants"]
    ]
    examples = [(c["id"], c["baseline_output"], c["best_output"]) for c in report["cases"]]
    return {"best": report["best"]["id"], "accepted": report["accepted"], "variants": variants, "examples": examples}


def calls_in(db: Path) -> int:
    """Calls the cache holds, 0 before it exists or while it cannot be read."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    except sqlite3.Error:
        return 0
