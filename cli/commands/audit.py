"""`promptslim audit`: what every prompt of a corpus costs a year, and what rules mode saves."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

import typer
from rich.markup import escape

from promptslim.audit import (
    DEFAULT_CALLS_PER_DAY,
    DEFAULT_LONG_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    AuditReport,
    gate_failures,
)
from promptslim.audit import (
    audit as run_audit,
)
from promptslim.corpus import is_input
from promptslim.errors import GateFailure, InputError
from promptslim.files import atomic_writer, check_output, shown
from promptslim.generators.rules import DEFAULT_LEVEL, LEVELS
from promptslim.log_audit import LogReport, audit_logs
from promptslim.log_audit import gate_failures as log_gate_failures
from promptslim.logs import looks_like_log
from promptslim.serialize import write_json
from promptslim.tokens import DEFAULT_TARGET

from ..common import RegionOpt, conflicts, finite, status
from ..progress import progress_bar

FORMATS = ("table", "json", "csv", "md", "html")
DEFAULT_TOP = {"table": 25, "md": 20, "html": 0}  # prompts listed; 0 lists all
PROBLEMS_SHOWN = 20
MAX_PROMPT_MB = 2000.0  # one prompt of 2 GB is far past any model's context
MAX_JOBS = 256  # worker processes are forked all at once


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    paths: list[str] = typer.Argument(
        ..., help="Folders, prompt files (.txt .md .prompt), specs, JSONL or CSV; - for stdin."
    ),
    target: list[str] | None = typer.Option(
        None,
        "--target",
        "-t",
        help=f"Target model (repeatable; default {DEFAULT_TARGET}). The first ranks the prompts.",
    ),
    field: str = typer.Option("prompt", "--field", help="JSONL field that holds the prompt."),
    column: str = typer.Option("prompt", "--column", help="CSV column that holds the prompt."),
    calls_per_day: float = typer.Option(
        DEFAULT_CALLS_PER_DAY,
        "--calls-per-day",
        min=0,
        callback=finite,
        help="Calls a day of each prompt, for the yearly figures.",
    ),
    output_tokens: int = typer.Option(
        DEFAULT_OUTPUT_TOKENS,
        "--output-tokens",
        min=0,
        help="Assumed answer length in tokens (a spec's max_tokens wins).",
    ),
    region: str | None = RegionOpt,
    long_tokens: int = typer.Option(
        DEFAULT_LONG_TOKENS, "--long-tokens", min=1, help="Flag prompts with more target tokens than this."
    ),
    deep: bool = typer.Option(False, "--deep", help="Also prune with the local model (slow) and report its tokens."),
    rate: float | None = typer.Option(
        None, "--rate", help="Share of the tokens --deep keeps, in (0, 1] (default 0.5)."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="GGUF model for --target local and --deep (default: the embedded one).",
        envvar="PROMPTSLIM_MODEL",
    ),
    j_in: float | None = typer.Option(
        None,
        "--energy-per-input-token",
        min=0,
        callback=finite,
        help="Joules per prompt token, instead of the energy model.",
    ),
    j_out: float | None = typer.Option(
        None,
        "--energy-per-output-token",
        min=0,
        callback=finite,
        help="Joules per output token, with --energy-per-input-token.",
    ),
    fmt: str = typer.Option("table", "--format", "-f", help=f"One of {', '.join(FORMATS)}."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    top: int | None = typer.Option(
        None, "--top", min=0, help="Prompts listed in table, md and html (default 25, 20, all; 0: all)."
    ),
    fail_over_tokens: int | None = typer.Option(
        None, "--fail-over-tokens", min=0, help="Exit 3 if a prompt has more target tokens than this."
    ),
    fail_saving: float | None = typer.Option(
        None,
        "--fail-saving",
        min=0,
        callback=finite,
        help="Exit 3 if rules mode would save more than PCT percent of a prompt.",
    ),
    max_prompt_mb: float = typer.Option(
        8.0, "--max-prompt-mb", min=0.001, max=MAX_PROMPT_MB, help="Skip (and report) prompts larger than this."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", min=1, max=MAX_JOBS, help="Worker processes for large corpora (default: all cores)."
    ),
    logs: bool = typer.Option(
        False,
        "--logs",
        help="Audit call logs (OpenAI request+response records, .jsonl or .parquet): templates, real calls "
        "and tokens. Detected when every file is one.",
    ),
    dask: str | None = typer.Option(
        None,
        "--dask",
        help="With --logs: run on a Dask cluster (tcp://HOST:8786), or local:N for a local one of N workers.",
    ),
    level: str = typer.Option(
        DEFAULT_LEVEL,
        "--level",
        help=f"Rules level the savings use, one of {', '.join(LEVELS)} (the aggressive level's, unverified, "
        "are shown beside them).",
    ),
) -> None:
    """Audit a corpus of prompts: tokens, findings, rules-mode savings and yearly cost, energy and CO2."""
    if fmt not in FORMATS:
        raise InputError(f"--format {shown(fmt)}: use one of {', '.join(FORMATS)}")
    conflicts(
        ("--rate", rate is not None and not deep, "applies to --deep pruning only: add --deep, or drop --rate"),
        ("--top", top is not None and fmt not in DEFAULT_TOP, f"does not apply to --format {fmt}, which lists all"),
    )
    if output is not None:
        if is_input(output, paths):
            raise InputError(f"--output {shown(output)}: that is one of the audited files: write the report elsewhere")
        check_output(output, option="--output", inputs=[p for p in paths if p != "-"])
    log_mode = logs or dask is not None or looks_like_log(paths)
    if log_mode:
        corpus_only = "applies to prompt corpora, not to call logs, whose calls and tokens are read from the log"
        conflicts(
            ("--field", field != "prompt", corpus_only),
            ("--column", column != "prompt", corpus_only),
            ("--calls-per-day", calls_per_day != DEFAULT_CALLS_PER_DAY, corpus_only),
            ("--output-tokens", output_tokens != DEFAULT_OUTPUT_TOKENS, corpus_only),
            ("--long-tokens", long_tokens != DEFAULT_LONG_TOKENS, corpus_only),
            ("--deep", deep, corpus_only),
            ("--max-prompt-mb", max_prompt_mb != 8.0, corpus_only),
            ("--level", level != DEFAULT_LEVEL, corpus_only),
            ("--jobs", jobs is not None and dask is not None, "sizes the process pool: --dask runs on the cluster"),
        )
    started = time.monotonic()
    if log_mode:
        report = audit_logs(
            paths,
            targets=target or (DEFAULT_TARGET,),
            region=region,
            model=model,
            energy_per_input_token=j_in,
            energy_per_output_token=j_out,
            workers=jobs,
            dask=dask,
        )
        offenders = log_gate_failures(report, max_tokens=fail_over_tokens, max_saving_pct=fail_saving)
    else:
        with progress_bar("auditing") as update:
            report = run_audit(
                paths,
                targets=target or (DEFAULT_TARGET,),
                field=field,
                column=column,
                calls_per_day=calls_per_day,
                output_tokens=output_tokens,
                region=region,
                long_tokens=long_tokens,
                deep=deep,
                rate=rate,
                model=model,
                energy_per_input_token=j_in,
                energy_per_output_token=j_out,
                max_prompt_bytes=int(max_prompt_mb * 1e6),
                workers=jobs,
                level=level,
                progress=lambda p: update(p.bytes_done, p.bytes_total, f"auditing ({p.prompts:,} prompts)"),
            )
        offenders = gate_failures(report, max_tokens=fail_over_tokens, max_saving_pct=fail_saving)
    write(report, fmt, DEFAULT_TOP[fmt] if top is None and fmt in DEFAULT_TOP else top or 0, output)
    _report_problems(report, time.monotonic() - started, output)
    for line in offenders:
        status(f"[red]over a gate:[/red] {escape(line)}")
    if offenders:
        raise GateFailure(f"{len(offenders)} over the audit gates (--fail-over-tokens / --fail-saving), listed above")


def write(report: AuditReport | LogReport, fmt: str, top: int, output: Path | None) -> None:
    """The report on stdout or in the file (whole or not at all: written beside it, then renamed
    over it); JSON goes out a row at a time, never as one string."""
    if output is None:
        _write_report(report, fmt, top, sys.stdout)
        return
    with atomic_writer(output) as out:
        _write_report(report, fmt, top, out)


def _write_report(report: AuditReport | LogReport, fmt: str, top: int, out: TextIO) -> None:
    if fmt == "json":
        write_json(report, out, rows="templates" if isinstance(report, LogReport) else "prompts")
    else:
        out.write(render(report.to_dict(), fmt, top))


def render(data: dict, fmt: str, top: int) -> str:
    from promptslim.report import audit as text_reports

    if "templates" in data:
        from promptslim.report.logs import render as log_render

        return log_render(data, fmt, top)
    if fmt == "html":
        from promptslim.report.audit_html import render as to_html

        return to_html(data, top)
    if fmt == "csv":
        return text_reports.to_csv(data)
    return (text_reports.to_table if fmt == "table" else text_reports.to_markdown)(data, top)


def _report_problems(report: AuditReport | LogReport, seconds: float, output: Path | None) -> None:
    for label, problems in (("[red]failed:[/red]", report.failures), ("[yellow]note:[/yellow]", report.notes)):
        for problem in problems[:PROBLEMS_SHOWN]:
            status(f"{label} {escape(problem.source)}: {escape(problem.message)}")
        if len(problems) > PROBLEMS_SHOWN:
            status(f"{label} \u2026 and {len(problems) - PROBLEMS_SHOWN:,} more (all of them are in --format json)")
    written = f"; wrote {escape(shown(output))}" if output else ""
    if isinstance(report, LogReport):
        done = f"{report.records:,} log records into {len(report.templates):,} templates"
        failed = report.failure_count
    else:
        done, failed = f"{len(report.prompts):,} prompts", len(report.failures)
    status(f"[dim]audited {done} in {seconds:.1f} s, {failed:,} failed{written}[/dim]")
