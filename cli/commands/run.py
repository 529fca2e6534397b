"""`promptslim run`: run a prompt once and show what the call cost."""

from __future__ import annotations

import contextlib
import sys

import typer
from rich.markup import escape

from promptslim.errors import InputError
from promptslim.files import shown
from promptslim.prompt import load_prompt
from promptslim.run import run as run_prompt
from promptslim.runtime.pool import EndpointPool
from promptslim.spec import MAX_OUTPUT_TOKENS

from ..common import (
    BaseUrlOpt,
    JsonOpt,
    ModelOpt,
    ModeOpt,
    RegionOpt,
    TargetOpt,
    backend_from,
    parse_vars,
    print_json,
    status,
    utf8,
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    file: str = typer.Argument(..., help="Prompt file (text, or .json/.yaml chat messages), or - for stdin."),
    var: list[str] | None = typer.Option(None, "--var", "-v", help="Template variable NAME=VALUE (repeatable)."),
    mode: str | None = ModeOpt,
    max_tokens: int = typer.Option(256, "--max-tokens", min=1, max=MAX_OUTPUT_TOKENS, help="Cap on output tokens."),
    stop: list[str] | None = typer.Option(None, "--stop", help="Stop sequence (repeatable); \\n means newline."),
    model: str | None = ModelOpt,
    base_url: list[str] | None = BaseUrlOpt,
    target: str | None = TargetOpt,
    region: str | None = RegionOpt,
    emissions_csv: str | None = typer.Option(
        None, "--emissions-csv", help="Also write codecarbon's emissions CSV for the run."
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Run a prompt once: the output on stdout, the measurement on stderr."""
    prompt = load_prompt(file)
    stops = tuple(_unescape("--stop", utf8("--stop", s)) for s in stop or ())
    tracker = contextlib.nullcontext()
    if emissions_csv:  # checked before the model is loaded or called
        from promptslim.measure.carbon import EmissionsCsv

        tracker = EmissionsCsv(emissions_csv, region, inputs=[file])
    backend = backend_from(model, base_url)
    with tracker:
        result = run_prompt(
            prompt,
            variables=parse_vars(var),
            mode=mode or prompt.default_mode,
            max_tokens=max_tokens,
            stop=stops,
            backend=backend,
            target=target,
            region=region,
        )
    if json_out:
        print_json(result)
        return
    sys.stdout.write(result.text + ("" if result.text.endswith("\n") else "\n"))
    cost = f", ${result.cost_usd:.6f} on {target}" if result.cost_usd is not None else ""
    via = _answered_by(backend)
    status(
        f"[dim]{result.model}{via}: {result.prompt_tokens} prompt + {result.completion_tokens} output tokens, "
        f"{result.wall_s:.2f}s wall, {result.cpu_s:.2f}s CPU, {result.energy_j:.2f} J ({result.energy_method}), "
        f"{result.co2_g * 1000:.3f} mg CO2{cost}[/dim]"
    )


def _answered_by(backend) -> str:
    """Which endpoint of a pool answered (and which were dropped on the way); "" for one backend."""
    if not isinstance(backend, EndpointPool):
        return ""
    stats = backend.stats()
    answered = next(e.url for e in stats if e.calls)
    dropped = [e.url for e in stats if e.error]
    return escape(f" via {answered}" + (f" ({', '.join(dropped)} dropped)" if dropped else ""))


def _unescape(option: str, value: str) -> str:
    """Backslash escapes (\\n, \\t, \\u00e9) in an option; other text, non-ASCII included, as typed."""
    if not value:
        raise InputError(f"{option} '': an empty stop sequence stops nothing: give at least one character")
    try:
        return value.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        raise InputError(
            f"{option} {shown(value)}: not a valid escape: write \\n for a newline, \\\\ for a backslash"
        ) from None
