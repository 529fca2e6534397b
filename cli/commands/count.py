"""`promptslim count`: prompt tokens for each target model."""

from __future__ import annotations

import sys

import typer

from promptslim.prompt import load_prompt
from promptslim.tokens import DEFAULT_TARGET, LOCAL, check_target, count_tokens

from ..common import JsonOpt, ModelOpt, ModeOpt, print_json


def register(app: typer.Typer) -> None:
    app.command("count")(count)


def count(
    file: str = typer.Argument(..., help="Prompt file (text, or .json/.yaml chat messages), or - for stdin."),
    target: list[str] | None = typer.Option(
        None, "--target", "-t", help=f"Target model (repeatable); default {DEFAULT_TARGET} and {LOCAL}."
    ),
    mode: str | None = ModeOpt,
    model: str | None = ModelOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Count a prompt's tokens for each target (local = the local GGUF model)."""
    from promptslim.runtime.base import CallOptions
    from promptslim.runtime.llama import LlamaBackend

    prompt = load_prompt(file)
    mode = mode or prompt.default_mode
    CallOptions(mode=mode)  # validates the mode
    targets = [check_target(t) for t in (target or [DEFAULT_TARGET, LOCAL])]
    local = LlamaBackend(model) if LOCAL in targets else None
    counts = {t: count_tokens(prompt, t, mode=mode, backend=local) for t in targets}
    if json_out:
        print_json({"tokens": counts, "local_model": local.name if local else None})
        return
    width = max(len(t) for t in counts)
    for name, n in counts.items():
        label = f"{name} ({local.name})" if name == LOCAL else name
        sys.stdout.write(f"{label:<{width}}  {n}\n")
