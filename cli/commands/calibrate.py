"""`promptslim calibrate`: fit the local model's energy per token on this machine."""

from __future__ import annotations

import sys
from dataclasses import asdict

import typer

from promptslim.errors import InputError
from promptslim.measure.calibrate import (
    WORKLOAD_OUTPUT_TOKENS,
    WORKLOAD_PROMPT_TOKENS,
    save,
)
from promptslim.measure.calibrate import (
    calibrate as run_calibration,
)

from ..common import JsonOpt, print_json, status
from ..progress import progress_bar

LOOSE_R2 = 0.8  # below this the fit explains too little of the variation to trust


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)


def calibrate(
    model: str | None = typer.Option(
        None, "--model", "-m", help="GGUF model to calibrate (default: the embedded one).", envvar="PROMPTSLIM_MODEL"
    ),
    prompt_tokens: str = typer.Option(
        ",".join(map(str, WORKLOAD_PROMPT_TOKENS)),
        "--prompt-tokens",
        help="Prompt lengths of the workload, comma-separated.",
    ),
    output_tokens: str = typer.Option(
        ",".join(map(str, WORKLOAD_OUTPUT_TOKENS)),
        "--output-tokens",
        help="Output lengths of the workload, comma-separated.",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Fit J = a·prompt + b·output + c on a short fixed workload, for `audit --target local`."""
    from promptslim.runtime.llama import LlamaBackend

    lengths = _lengths("--prompt-tokens", prompt_tokens), _lengths("--output-tokens", output_tokens)
    backend = LlamaBackend(model)
    calls = len(lengths[0]) * len(lengths[1])
    with progress_bar("calibrating") as update:
        result = run_calibration(
            backend,
            prompt_tokens=lengths[0],
            output_tokens=lengths[1],
            progress=lambda done, total: update(done, total, f"calibrating ({done}/{total} calls)"),
        )
    path = save(result)
    if json_out:
        print_json({**asdict(result), "path": str(path)})
    else:
        sys.stdout.write(
            f"{result.model_name} on {result.machine}\n"
            f"  J = a\u00b7prompt_tokens + b\u00b7output_tokens + c   ({calls} calls, energy {result.energy_method})\n"
            f"  a = {result.j_per_input_token:.4g} J per prompt token\n"
            f"  b = {result.j_per_output_token:.4g} J per output token\n"
            f"  c = {result.j_per_call:.4g} J per call\n"
            f"  R\u00b2 = {result.r2:.3f}\n"
        )
    status(f"[dim]stored in {path}; `promptslim audit --target local` uses it[/dim]")
    if result.r2 < LOOSE_R2:
        status(
            f"[yellow]note:[/yellow] the fit is loose (R\u00b2 {result.r2:.2f}): other work on this machine "
            "disturbs the readings; rerun it when the machine is idle"
        )


def _lengths(option: str, value: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise InputError(f"{option} {value!r}: give whole numbers separated by commas, e.g. 32,128,512") from None
