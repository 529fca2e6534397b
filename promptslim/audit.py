"""`audit`: what every prompt of a corpus costs at volume, and what rules mode would save.

paths -> corpus (read lazily) -> one PromptAudit per prompt (tokens before and after
`compress --method rules` on each target, at the chosen level and, side by side, at the
aggressive level, whose edits are unverified; static findings, projections) -> AuditReport,
prompts sorted by yearly saving. Large corpora are analysed in worker processes, a chunk
of prompts at a time, with a bounded number of chunks in flight so the corpus streams.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO

from . import corpus
from .compress import compress
from .corpus import Item, Problem
from .errors import InputError, PromptslimError
from .findings import Finding, excerpt, find_issues
from .generators import prune, rules
from .measure.carbon import grams_per_kwh, resolve_region
from .measure.projection import EnergyModel, Projection, Volume, energy_model, project
from .prompt import Prompt
from .serialize import fields_of, to_jsonable
from .tokens import DEFAULT_TARGET, LOCAL, check_target, encoding_for, local_backend, prompt_tokens, text_counter

SEQUENTIAL_MAX = 200  # inputs up to this many are analysed in this process: no worker start-up
CHUNK = 32  # prompts per task sent to a worker
DEFAULT_CALLS_PER_DAY = 1000
DEFAULT_OUTPUT_TOKENS = 200
DEFAULT_LONG_TOKENS = 2000
PROMPT_EXCERPT_CHARS = 400  # of each prompt, for reports


@dataclass(frozen=True)
class Settings:
    """What analysing one prompt needs; sent to every worker."""

    targets: tuple[str, ...]
    energy: tuple[EnergyModel, ...]  # one per target
    volume: Volume
    output_tokens: int
    long_tokens: int
    model: str | None = None  # GGUF for the local target and pruning
    deep_rate: float | None = None  # prune too, keeping this share of the tokens
    level: str = rules.DEFAULT_LEVEL  # of the rules whose savings the projections use


@dataclass(frozen=True)
class PromptAudit:
    source: str
    id: str
    chat: bool
    excerpt: str  # the start of the prompt, for reports
    projections: tuple[Projection, ...]  # one per target, in the order given
    findings: tuple[Finding, ...]
    note: str | None = None
    name: str | None = None  # the record's own id or name

    @property
    def main(self) -> Projection:
        return self.projections[0]

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "source": self.source,
                "id": self.id,
                "name": self.name,
                **fields_of(self.main),
                "chat": self.chat,
                "findings": self.findings,
                "note": self.note,
                "targets": self.projections,
                "excerpt": self.excerpt,
            }
        )


@dataclass(frozen=True)
class Totals:
    """The corpus on one target model, per year at the given volume."""

    target: str
    tokens: int
    tokens_after: int
    saving_pct: float
    energy_kwh_year: float
    co2_kg_year: float
    cost_usd_year: float | None
    energy_kwh_year_saved: float
    co2_kg_year_saved: float
    cost_usd_year_saved: float | None
    deep_tokens_after: int | None
    energy_model: EnergyModel
    aggressive_tokens_after: int = 0  # at the aggressive level: unverified edits
    aggressive_saving_pct: float = 0.0


@dataclass(frozen=True)
class AuditReport:
    prompts: tuple[PromptAudit, ...]  # largest yearly saving first
    totals: tuple[Totals, ...]  # one per target
    failures: tuple[Problem, ...]
    notes: tuple[Problem, ...]
    calls_per_day: float
    output_tokens: int
    region: str
    long_tokens: int
    deep_rate: float | None = None
    level: str = rules.DEFAULT_LEVEL

    @property
    def summary(self) -> dict:
        main = asdict(self.totals[0])
        main["energy_model"] = main["energy_model"]["source"]
        return {
            "prompts": len(self.prompts),
            "failures": len(self.failures),
            "notes": len(self.notes),
            **main,
            "calls_per_day": self.calls_per_day,
            "region": self.region,
            "level": self.level,
        }

    def to_dict(self) -> dict:
        settings = {
            "calls_per_day": self.calls_per_day,
            "output_tokens": self.output_tokens,
            "region": self.region,
            "long_tokens": self.long_tokens,
            "deep_rate": self.deep_rate,
            "level": self.level,
        }
        return {
            "summary": self.summary,
            "settings": settings,
            "targets": [asdict(t) for t in self.totals],
            "prompts": [p.to_dict() for p in self.prompts],
            "failures": [asdict(p) for p in self.failures],
            "notes": [asdict(p) for p in self.notes],
        }


@dataclass(frozen=True)
class AuditProgress:
    prompts: int  # analysed so far
    bytes_done: int
    bytes_total: int | None  # None when reading stdin


def audit(
    paths: Sequence[str | Path],
    *,
    targets: Sequence[str] = (DEFAULT_TARGET,),
    field: str = "prompt",
    column: str = "prompt",
    calls_per_day: float = DEFAULT_CALLS_PER_DAY,
    output_tokens: int = DEFAULT_OUTPUT_TOKENS,
    region: str | None = None,
    long_tokens: int = DEFAULT_LONG_TOKENS,
    deep: bool = False,
    rate: float | None = None,
    model: str | None = None,
    energy_per_input_token: float | None = None,
    energy_per_output_token: float | None = None,
    max_prompt_bytes: int = corpus.DEFAULT_MAX_PROMPT_BYTES,
    workers: int | None = None,
    progress: Callable[[AuditProgress], None] | None = None,
    stdin: BinaryIO | None = None,
    level: str = rules.DEFAULT_LEVEL,
) -> AuditReport:
    """Audit every prompt under `paths` (folders, files, or "-" for stdin). The projections use
    the rules' savings at `level`; the aggressive level's are reported beside them."""
    settings = make_settings(
        targets,
        calls_per_day,
        output_tokens,
        region,
        long_tokens,
        deep,
        rate,
        model,
        energy_per_input_token,
        energy_per_output_token,
        level,
    )
    found = corpus.discover(paths)
    entries = corpus.read(found, field=field, column=column, max_bytes=max_prompt_bytes, stdin=stdin)
    audits, problems, done = [], [], 0
    for result, size in _analyse_all(entries, settings, workers or _cores()):
        (problems if isinstance(result, Problem) else audits).append(result)
        done += size
        if progress:
            progress(AuditProgress(len(audits), done, found.total_bytes))
    audits.sort(key=_by_saving)
    return AuditReport(
        prompts=tuple(audits),
        totals=tuple(totals([a.projections[i] for a in audits], i, settings) for i in range(len(settings.targets))),
        failures=tuple(p for p in problems if p.failure),
        notes=tuple(p for p in problems if not p.failure),
        calls_per_day=calls_per_day,
        output_tokens=output_tokens,
        region=resolve_region(region),
        long_tokens=long_tokens,
        deep_rate=settings.deep_rate,
        level=settings.level,
    )


def make_settings(
    targets, calls_per_day, output_tokens, region, long_tokens, deep, rate, model, j_in=None, j_out=None, level=None
) -> Settings:
    """Check the options once, before any file is read."""
    targets = tuple(dict.fromkeys(check_target(t) for t in targets or (DEFAULT_TARGET,)))
    if calls_per_day < 0 or output_tokens < 0 or long_tokens < 1:
        raise InputError("--calls-per-day and --output-tokens must be 0 or more, --long-tokens 1 or more")
    if (j_in is None) != (j_out is None) or min(j_in or 0, j_out or 0) < 0:
        raise InputError(
            "--energy-per-input-token and --energy-per-output-token go together: give both, in joules (0 or more)"
        )
    user = (j_in, j_out) if j_in is not None else None
    calibration = _calibration(model) if LOCAL in targets and user is None else None
    energy = tuple(energy_model(t, user=user, calibration=calibration) for t in targets)
    return Settings(
        targets,
        energy,
        Volume(calls_per_day, grams_per_kwh(region)),
        output_tokens,
        long_tokens,
        model,
        (prune.check_rate(rate) or prune.DEFAULT_RATE) if deep else None,
        rules.check_level(level or rules.DEFAULT_LEVEL),
    )


def _calibration(model: str | None):
    from .measure.calibrate import load

    return load(local_backend(model).identity)


# ---------------------------------------------------------------- one prompt


def analyse(item: Item, settings: Settings) -> PromptAudit | Problem:
    """Tokens before and after rules mode on every target, findings and projections."""
    try:
        pruned = _pruned(item, settings)
        projected = [_projection(item, i, settings, pruned) for i in range(len(settings.targets))]
        main = settings.targets[0]
        count = text_counter(main, _backend(main, settings))
        findings = find_issues(item.prompt, count, projected[0][0].tokens, settings.long_tokens, main)
    except PromptslimError as exc:
        return Problem(item.id, str(exc))
    return PromptAudit(
        item.source,
        item.id,
        item.prompt.is_chat,
        excerpt(_as_text(item.prompt), PROMPT_EXCERPT_CHARS),
        tuple(p for p, _ in projected),
        findings,
        projected[0][1],
        item.name,
    )


def _as_text(prompt: Prompt) -> str:
    if not prompt.is_chat:
        return prompt.text
    # only the excerpt's start is shown: each message is cut first, not joined whole
    return "\n\n".join(f"{m.role}: {m.content[:PROMPT_EXCERPT_CHARS]}" for m in prompt.messages)


def _projection(item: Item, index: int, settings: Settings, pruned: Prompt | None) -> tuple[Projection, str | None]:
    """The prompt on one target, and compress's note (why it returned the prompt unchanged)."""
    target = settings.targets[index]
    backend = _backend(target, settings)
    result = compress(item.prompt, method="rules", target=target, backend=backend, level=settings.level)
    projection = project(
        target,
        result.original_tokens,
        result.compressed_tokens,
        item.output_tokens or settings.output_tokens,
        settings.energy[index],
        settings.volume,
    )
    count = text_counter(target, backend)
    if pruned is not None:
        deep = prompt_tokens(pruned, target, count)
        projection = replace(projection, deep_tokens_after=min(deep, result.original_tokens))
    aggressive = _aggressive_tokens(item.prompt, result, settings.level, target, count)
    return replace(projection, aggressive_tokens_after=aggressive), result.note


def _aggressive_tokens(prompt: Prompt, result, level: str, target: str, count) -> int:
    """The prompt's tokens after the aggressive rules: an estimate of what they could save,
    unverified (the optimizer keeps them only where the task score holds)."""
    if level == "aggressive":
        return result.compressed_tokens
    terse = prompt.map_text(lambda text: rules.compress(text, level="aggressive").text)
    return (
        result.original_tokens if terse == prompt else min(result.original_tokens, prompt_tokens(terse, target, count))
    )


def _pruned(item: Item, settings: Settings) -> Prompt | None:
    """With --deep, the prompt pruned once (to the rate in the first target's tokens)."""
    if settings.deep_rate is None:
        return None
    main = settings.targets[0]
    return compress(
        item.prompt,
        method="prune",
        rate=settings.deep_rate,
        target=main,
        backend=_backend(main, settings),
        prune_model=settings.model,
    ).prompt


def _backend(target: str, settings: Settings):
    return local_backend(settings.model) if target == LOCAL else None


# ---------------------------------------------------------------- many prompts


def _analyse_all(
    entries: Iterator[Item | Problem], settings: Settings, workers: int
) -> Iterator[tuple[PromptAudit | Problem, int]]:
    """Small inputs (and --deep, which runs the model) in this process; the rest in workers."""
    head = list(islice(entries, SEQUENTIAL_MAX + 1))
    if len(head) <= SEQUENTIAL_MAX or workers < 2 or settings.deep_rate is not None:
        for entry in chain(head, entries):
            yield from _analyse_chunk(settings, [entry])
        return
    yield from _in_workers(chain(head, entries), settings, workers)


def _analyse_chunk(settings: Settings, chunk: list[Item | Problem]) -> list[tuple[PromptAudit | Problem, int]]:
    return [(entry, 0) if isinstance(entry, Problem) else (analyse(entry, settings), entry.size) for entry in chunk]


def _in_workers(
    entries: Iterable[Item | Problem], settings: Settings, workers: int
) -> Iterator[tuple[PromptAudit | Problem, int]]:
    from concurrent.futures import ProcessPoolExecutor

    for target in settings.targets:  # loaded before the fork, so no worker loads them again
        if target != LOCAL:
            encoding_for(target)
    with ProcessPoolExecutor(workers, mp_context=_fork_context()) as pool:
        pending: deque = deque()
        for chunk in _chunks(entries, CHUNK):
            pending.append(pool.submit(_analyse_chunk, settings, chunk))
            if len(pending) >= 2 * workers:  # a bounded number in flight: the corpus streams through
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _chunks(entries: Iterable, size: int) -> Iterator[list]:
    iterator = iter(entries)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _fork_context():
    # on Linux, forked workers start at once with the modules and encodings already loaded;
    # elsewhere fork is unsafe with some system libraries, so the platform's default is used
    return multiprocessing.get_context("fork" if sys.platform == "linux" else None)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _by_saving(item: PromptAudit) -> tuple:
    main = item.main
    return (-(main.cost_usd_year_saved or 0.0), -main.energy_kwh_year_saved, main.tokens_after - main.tokens, item.id)


def totals(rows: list[Projection], index: int, settings: Settings) -> Totals:
    """The sums of one target's projections (its index in the settings)."""
    tokens, after = sum(r.tokens for r in rows), sum(r.tokens_after for r in rows)
    costs = [r.cost_usd_year for r in rows]
    priced = not rows or None not in costs
    deep = [r.deep_tokens_after for r in rows if r.deep_tokens_after is not None]
    terse = sum(r.tokens if r.aggressive_tokens_after is None else r.aggressive_tokens_after for r in rows)
    return Totals(
        target=settings.targets[index],
        tokens=tokens,
        tokens_after=after,
        saving_pct=100.0 * (tokens - after) / tokens if tokens else 0.0,
        energy_kwh_year=sum(r.energy_kwh_year for r in rows),
        co2_kg_year=sum(r.co2_kg_year for r in rows),
        cost_usd_year=sum(costs) if priced else None,
        energy_kwh_year_saved=sum(r.energy_kwh_year_saved for r in rows),
        co2_kg_year_saved=sum(r.co2_kg_year_saved for r in rows),
        cost_usd_year_saved=sum(r.cost_usd_year_saved for r in rows) if priced else None,
        deep_tokens_after=sum(deep) if deep else None,
        energy_model=settings.energy[index],
        aggressive_tokens_after=terse,
        aggressive_saving_pct=100.0 * (tokens - terse) / tokens if tokens else 0.0,
    )


# ---------------------------------------------------------------- CI gates


def gate_failures(
    report: AuditReport, *, max_tokens: int | None = None, max_saving_pct: float | None = None
) -> list[str]:
    """One line per prompt and target over a gate: more tokens than allowed, or more to save."""
    lines = []
    for item in report.prompts:
        for p in item.projections:
            if max_tokens is not None and p.tokens > max_tokens:
                lines.append(f"{item.id}: {p.tokens:,} {p.target} tokens, over --fail-over-tokens {max_tokens:,}")
            if max_saving_pct is not None and p.saving_pct > max_saving_pct:
                lines.append(
                    f"{item.id}: rules mode saves {p.saving_pct:.1f}% of its {p.target} tokens, "
                    f"over --fail-saving {max_saving_pct:g}%"
                )
    return lines
