"""`promptslim optimize`: find the cheapest prompt variant that still scores well enough."""

from __future__ import annotations

import sys
from dataclasses import asdict

import typer
from rich.markup import escape

from promptslim.files import shown
from promptslim.optimize import MAX_CANDIDATES
from promptslim.optimize import optimize as run_optimize
from promptslim.report import endpoint_rows
from promptslim.report.outputs import check_outputs, write_outputs
from promptslim.spec import load_spec

from ..common import BaseUrlOpt, JsonOpt, ModelOpt, backend_from, print_json, status
from ..progress import progress_bar


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)


def optimize(
    spec_file: str = typer.Argument(..., metavar="SPEC", help="Task spec (YAML or JSON)."),
    out: str | None = typer.Option(
        None, "--out", "-o", help="Directory for the winning spec and report.{json,md,html}."
    ),
    objective: str | None = typer.Option(
        None, "--objective", help="tokens, energy, cost or co2 (default: the spec's)."
    ),
    model: str | None = ModelOpt,
    base_url: list[str] | None = BaseUrlOpt,
    exhaustive: bool = typer.Option(
        False, "--exhaustive", help="Race every prompt configuration on every search case (slow; no probe limit)."
    ),
    budget_calls: int | None = typer.Option(
        None, "--budget-calls", min=1, help="Stop after this many new model calls."
    ),
    concurrency: int = typer.Option(
        1,
        "--concurrency",
        min=1,
        help="Parallel calls (OpenAI-compatible endpoints); on each endpoint when --base-url is given several times.",
    ),
    max_candidates: int = typer.Option(
        MAX_CANDIDATES, "--max-candidates", min=1, help="Most prompt configurations to race (probes)."
    ),
    axes: str | None = typer.Option(
        None, "--axes", help="Generators to search over, comma-separated (default: rules,shots,prune,brevity)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse or store calls."),
    allow_outside: bool = typer.Option(
        False, "--allow-outside", help="Let the spec's cases file lie outside the spec's folder."
    ),
    allow_python_scorer: bool = typer.Option(
        False,
        "--allow-python-scorer",
        help="Let `scorer: python:...` import an installed package (it runs that package's code).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Race prompt variants on the spec's cases; keep the cheapest that is not meaningfully worse."""
    spec = load_spec(spec_file, allow_outside=allow_outside, allow_python_scorer=allow_python_scorer)
    if out:
        check_outputs(spec, out)  # before any model call: a bad --out costs nothing
    backend = backend_from(model, base_url, concurrency)
    with progress_bar("making variants") as update:

        def show(progress) -> None:
            if progress.phase == "evaluating":  # racing stops well before the exhaustive bound
                update(progress.calls, progress.upper_bound, f"probe {progress.probes + 1} ({progress.cached} cached)")

        result = run_optimize(
            spec,
            backend=backend,
            objective=objective,
            budget_calls=budget_calls,
            exhaustive=exhaustive,
            concurrency=concurrency,
            cache=False if no_cache else None,
            max_candidates=max_candidates,
            axes=[a.strip() for a in axes.split(",") if a.strip()] if axes else None,
            on_progress=show,
        )
    retried = getattr(backend, "retried_calls", 0)
    if retried:
        status(
            f"[yellow]note:[/yellow] {retried} calls were retried ({backend.retries} retries) after endpoint "
            "errors; each was answered in the end"
        )
    if out:
        for path in write_outputs(result, spec, out):
            status(f"[dim]wrote {escape(shown(path))}[/dim]")
    if json_out:
        print_json(result)
    else:
        sys.stdout.write(summary(result) + "\n")


def summary(result) -> str:
    base, best, save = result.baseline, result.best, result.savings

    def pct(value):
        return "n/a" if value is None else f"{value:.1f}%"

    fitted = save.energy_basis == "fit"

    def joules(variant) -> float:
        return variant.energy_fit_j if fitted else variant.energy_j

    how = f"{base.energy_method}, fit over {result.energy_fit.calls} calls" if fitted else base.energy_method
    lines = [
        f"{result.name}: {result.note}",
        f"  baseline  score {_score(base)}  {_tokens(base)}  {joules(base):.3f} J/call ({how})",
        f"  best {best.id:<5} score {_score(best)}  {_tokens(best)}  {joules(best):.3f} J/call",
        f"  search: {result.spend.probes} probes on {result.holdout['search_cases']} cases; {result.holdout['note']}",
        f"  saved: prompt tokens {pct(save.prompt_tokens_pct)}, output tokens {pct(save.completion_tokens_pct)} "
        f"({pct(save.generated_tokens_pct)} of the model's own, stop tokens included), "
        f"energy {pct(save.energy_pct)}, cost {pct(save.cost_pct)}, CO2 {pct(save.co2_pct)}",
        f"  spend: {result.spend.model_calls} model calls ({result.spend.cached_calls} cached) "
        f"of {result.spend.exhaustive_calls} exhaustive, "
        f"{result.spend.energy_j:.1f} J, {result.spend.wall_s:.0f} s"
        + (f"; pays back after {save.breakeven_calls:.0f} calls" if save.breakeven_calls else ""),
    ]
    endpoints = {"endpoints": [asdict(e) for e in result.endpoints or ()]}
    for url, calls, failed, per_s, tokens_per_s, state in endpoint_rows(endpoints):
        throughput = f"{per_s} calls/s, {tokens_per_s} tokens/s"
        lines.append(f"  endpoint {url}: {calls} calls ({failed} failed), {throughput}; {state}")
    if result.budget_exhausted:
        lines.append("  note: the call budget ran out before the search finished")
    return "\n".join(lines)


def _score(variant) -> str:
    """The held-back cases' score where the variant ran there, else the search cases'."""
    if variant.confirmed_score is not None:
        return f"{variant.confirmed_score:.3f} {_ci(variant.confirmed_score_ci)} on {variant.confirmed_calls} held back"
    return f"{variant.score:.3f} {_ci(variant.score_ci)}"


def _ci(ci) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""


def _tokens(variant) -> str:
    return f"{variant.prompt_tokens:.0f}+{variant.completion_tokens:.1f} tokens"
