"""`audit --logs`: what each template of a call log costs a year at the rate the log shows, from
the tokens its responses' `usage` counted, and what rules mode saves on the template's fixed part.

log files -> partitions (JSONL byte ranges, Parquet row groups) -> templates learned from the
log's first records -> every partition counted against them (`logs.scan`, in this process, a
process pool, or a Dask cluster: the same function, merged in partition order) -> leftovers
learned -> one TemplateAudit per template, ranked by yearly cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial as bind
from itertools import islice
from pathlib import Path

from . import logs
from .audit import DEFAULT_LONG_TOKENS, Settings, Totals, _cores, _fork_context, make_settings, totals
from .compress import compress
from .corpus import Problem
from .errors import InputError, PromptslimError
from .files import shown
from .findings import line_excerpt
from .logs import Group, Part, Partial, Template
from .measure.carbon import resolve_region
from .measure.projection import Projection, Volume, project
from .prompt import Prompt
from .serialize import fields_of, to_jsonable
from .tokens import DEFAULT_TARGET, LOCAL, encoding_for

SECONDS_PER_DAY = 86400.0
WIDE_OUTPUTS = 2.0  # p95 over this many times the mean: the outputs vary widely
P95 = 0.95
CAPPED_SHARE = 0.05  # or this share of the calls ran to their max_tokens


@dataclass(frozen=True)
class TemplateAudit:
    template: Template
    calls: int
    calls_per_day: float
    prompt_tokens_mean: float
    prompt_tokens_p95: int
    completion_tokens_mean: float
    completion_tokens_p95: int
    length_capped: int  # calls that ran to their max_tokens
    model: str | None  # the log's most frequent model for this template
    fixed_tokens: int  # of the template's fixed part, on the first target
    fixed_tokens_after: int  # the same after rules mode
    projections: tuple[Projection, ...]  # one per target, at the log's rate and real tokens
    output_note: str | None

    @property
    def main(self) -> Projection:
        return self.projections[0]

    def to_dict(self) -> dict:
        main = self.main
        return to_jsonable(
            {
                "template": self.template.text,
                "calls": self.calls,
                "calls_per_day": self.calls_per_day,
                "prompt_tokens_mean": self.prompt_tokens_mean,
                "prompt_tokens_p95": self.prompt_tokens_p95,
                "completion_tokens_mean": self.completion_tokens_mean,
                "completion_tokens_p95": self.completion_tokens_p95,
                "length_capped": self.length_capped,
                "cost_usd_year": main.cost_usd_year,
                "energy_kwh_year": main.energy_kwh_year,
                "co2_kg_year": main.co2_kg_year,
                "rules_saving_pct": main.saving_pct,
                "cost_usd_year_saved": main.cost_usd_year_saved,
                "energy_kwh_year_saved": main.energy_kwh_year_saved,
                "co2_kg_year_saved": main.co2_kg_year_saved,
                "fixed_tokens": self.fixed_tokens,
                "fixed_tokens_after": self.fixed_tokens_after,
                "model": self.model,
                "output_note": self.output_note,
                "messages": self.template.messages,
                "targets": self.projections,
            }
        )


@dataclass(frozen=True)
class LogReport:
    templates: tuple[TemplateAudit, ...]  # largest yearly cost first
    totals: tuple[Totals, ...]
    failures: tuple[Problem, ...]  # the first records that could not be read
    failure_count: int
    notes: tuple[Problem, ...]
    records: int
    span_days: float
    span_measured: bool  # False: no timestamps, the log is taken as one day
    region: str
    partitions: int

    @property
    def prompts(self) -> tuple[TemplateAudit, ...]:
        return self.templates

    @property
    def summary(self) -> dict:
        main = fields_of(self.totals[0])
        main["energy_model"] = main["energy_model"].source
        return {
            "prompts": len(self.templates),  # the key the corpus audit's summary has
            "templates": len(self.templates),
            "calls": sum(t.calls for t in self.templates),
            "records": self.records,
            "failures": self.failure_count,
            "notes": len(self.notes),
            **to_jsonable(main),
            "calls_per_day": sum(t.calls_per_day for t in self.templates),
            "span_days": self.span_days,
            "span_measured": self.span_measured,
            "region": self.region,
        }

    def to_dict(self) -> dict:
        return {
            "summary": self.summary,
            "targets": to_jsonable(self.totals),
            "templates": [t.to_dict() for t in self.templates],
            "failures": to_jsonable(self.failures),
            "notes": to_jsonable(self.notes),
        }


def audit_logs(
    paths: Sequence[str | Path],
    *,
    targets: Sequence[str] = (DEFAULT_TARGET,),
    region: str | None = None,
    model: str | None = None,
    energy_per_input_token: float | None = None,
    energy_per_output_token: float | None = None,
    workers: int | None = None,
    dask: str | None = None,
    part_bytes: int = logs.PART_BYTES,
) -> LogReport:
    """Audit the call logs under `paths` (.jsonl, .parquet, or folders of them)."""
    settings = make_settings(
        targets, 0, 0, region, DEFAULT_LONG_TOKENS, False, None, model, energy_per_input_token, energy_per_output_token
    )
    parts = logs.partitions(logs.log_files(map(str, paths)), part_bytes)
    templates = tuple(dict.fromkeys(logs.learn(_first_keys(parts))))  # each once, in order
    total = Partial()
    for partial in _scan_all(parts, templates, workers or _cores(), dask):
        total.merge(partial)
    groups = _grouped(total, templates)
    span, measured = _span(total)
    audits = [_template_audit(t, g, span, settings) for t, g in groups.items()]
    audits.sort(key=lambda a: (-(a.main.cost_usd_year or 0.0), -a.main.energy_kwh_year, -a.calls, a.template.text))
    notes = [] if measured else [Problem("log", "no timestamps: the log is taken to span one day", failure=False)]
    return LogReport(
        templates=tuple(audits),
        totals=tuple(totals([a.projections[i] for a in audits], i, settings) for i in range(len(settings.targets))),
        failures=tuple(total.problems),
        failure_count=total.problem_count,
        notes=tuple(notes),
        records=total.records,
        span_days=span,
        span_measured=measured,
        region=resolve_region(region),
        partitions=len(parts),
    )


def _first_keys(parts: list[Part]) -> list[tuple[tuple, int]]:
    """Masked calls of the log's first records, with their counts: what the templates are learned from."""

    def calls() -> Iterator[logs.Call]:
        for part in parts:
            for record, _ in logs.records(part):
                try:
                    yield logs.parse(record)
                except (InputError, AttributeError):
                    continue

    return list(Counter(logs.masked_key(c) for c in islice(calls(), logs.LEARN_RECORDS)).items())


def _scan_all(parts: list[Part], templates: tuple[Template, ...], workers: int, dask: str | None) -> Iterator[Partial]:
    """Every partition's counts, in partition order, wherever they are computed."""
    work = bind(logs.scan, templates=templates)
    if dask:
        yield from _on_dask(dask, parts, templates)
    elif workers < 2 or len(parts) < 2:
        yield from map(work, parts)
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(parts)), mp_context=_fork_context()) as pool:
            yield from pool.map(work, parts)


def _on_dask(address: str, parts: list[Part], templates: tuple[Template, ...]) -> Iterator[Partial]:
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--dask needs dask.distributed: pip install 'promptslim[dask]'") from None
    cluster = None
    if address.startswith("local:"):
        try:
            n = int(address.removeprefix("local:"))
        except ValueError:
            n = 0
        if n < 1:
            raise InputError(f"--dask {shown(address)}: give local:N with N workers, 1 or more")
        # no dashboard shows the workers' sampled profiles: not sampling every 10 ms spares CPU
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=10)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--dask {shown(address)}: cannot reach the scheduler ({shown(exc)})") from None
    try:
        (shared,) = client.scatter([templates], broadcast=True)  # sent once, not with every task
        futures = client.map(logs.scan, parts, templates=shared, pure=False)
        for future in futures:  # in partition order: the merge is the same as the process pool's
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _grouped(total: Partial, templates: tuple[Template, ...]) -> dict[Template, Group]:
    """Groups by template: the counted ones, then the leftovers learned from their masked texts."""
    leftovers = sorted(total.unmatched.items(), key=lambda kv: (-kv[1].calls, kv[0]))
    widened = logs.learn([(key, group.calls) for key, group in leftovers], known=templates)
    groups: dict[Template, Group] = {}
    for index, group in sorted(total.matched.items()):
        groups.setdefault(widened[index], Group()).merge(group)
    for (roles, texts), group in leftovers:
        template = next((t for t in widened if t.roles == roles and t.matches(texts)), None)
        if template is None:  # cannot happen for a learned key; kept literal rather than lost
            template = Template.of(roles, [logs._TOKEN.findall(t) for t in texts])
        groups.setdefault(template, Group()).merge(group)
    return groups


def _span(total: Partial) -> tuple[float, bool]:
    if total.first is None or total.last is None or total.last <= total.first:
        return 1.0, False
    return (total.last - total.first) / SECONDS_PER_DAY, True


def _template_audit(template: Template, group: Group, span_days: float, settings: Settings) -> TemplateAudit:
    prompt_mean, completion_mean = logs.mean(group.prompt_tokens), logs.mean(group.completion_tokens)
    completion_p95 = logs.percentile(group.completion_tokens, P95)
    calls_per_day = group.calls / span_days
    volume = Volume(calls_per_day, settings.volume.grams_per_kwh)
    projections, fixed = [], (0, 0)
    for index, target in enumerate(settings.targets):
        before, after = _fixed_tokens(template, target)
        fixed = fixed if index else (before, after)
        after_mean = max(0.0, prompt_mean - (before - after))
        projections.append(project(target, prompt_mean, after_mean, completion_mean, settings.energy[index], volume))
    model = group.models.most_common(1)[0][0] if group.models else ""
    return TemplateAudit(
        template=template,
        calls=group.calls,
        calls_per_day=calls_per_day,
        prompt_tokens_mean=prompt_mean,
        prompt_tokens_p95=logs.percentile(group.prompt_tokens, P95),
        completion_tokens_mean=completion_mean,
        completion_tokens_p95=completion_p95,
        length_capped=group.capped,
        model=model or None,
        fixed_tokens=fixed[0],
        fixed_tokens_after=fixed[1],
        projections=tuple(projections),
        output_note=_output_note(group.calls, completion_mean, completion_p95, group.capped),
    )


def _fixed_tokens(template: Template, target: str) -> tuple[int, int]:
    """Tokens of the template's fixed part (variables as {{var}}) before and after rules mode."""
    if target == LOCAL:
        return 0, 0  # the local model's tokens are not counted here; the saving is left at zero
    encoding_for(target)
    fixed = [{**m, "content": m["content"].replace(logs.WILD, "{{var}}")} for m in template.messages]
    try:
        prompt = Prompt.of(fixed[0]["content"]) if template.roles == ("prompt",) else Prompt.of(fixed)
        result = compress(prompt, method="rules", target=target)
    except (PromptslimError, ValueError):
        return 0, 0
    return result.original_tokens, min(result.compressed_tokens, result.original_tokens)


def _output_note(calls: int, mean: float, p95: int, capped: int) -> str | None:
    """Said where outputs vary widely or often run to the cap: then a cap is the lever, not the prompt."""
    if mean <= 0 or (p95 < WIDE_OUTPUTS * mean and capped < CAPPED_SHARE * calls):
        return None
    ran = f"; {capped:,} calls ran to a length cap" if capped else "; no call ran to a length cap"
    return f"outputs vary widely (mean {mean:,.0f}, p95 {p95:,} tokens): a max_tokens cap is the lever{ran}"


# ---------------------------------------------------------------- CI gates


def gate_failures(
    report: LogReport, *, max_tokens: int | None = None, max_saving_pct: float | None = None
) -> list[str]:
    """One line per template and target over a gate: mean prompt tokens, or rules-mode saving."""
    lines = []
    for item in report.templates:
        name = line_excerpt(item.template.text, 60)
        for p in item.projections:
            if max_tokens is not None and p.tokens > max_tokens:
                lines.append(
                    f"{name}: {p.tokens:,.0f} {p.target} tokens a call, over --fail-over-tokens {max_tokens:,}"
                )
            if max_saving_pct is not None and p.saving_pct > max_saving_pct:
                lines.append(
                    f"{name}: rules mode saves {p.saving_pct:.1f}% of its {p.target} tokens, "
                    f"over --fail-saving {max_saving_pct:g}%"
                )
    return lines
