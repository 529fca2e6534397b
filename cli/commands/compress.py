"""`promptslim compress`: a shorter prompt on stdout, the stats on stderr."""

from __future__ import annotations

import json
import sys

import typer

from promptslim.compress import METHODS
from promptslim.compress import compress as compress_prompt
from promptslim.generators.prune import check_rate
from promptslim.generators.rules import DEFAULT_LEVEL, LEVELS
from promptslim.prompt import load_prompt
from promptslim.tokens import DEFAULT_TARGET

from ..common import JsonOpt, ModelOpt, conflicts, print_json, status, utf8


def register(app: typer.Typer) -> None:
    app.command("compress")(compress)


def compress(
    file: str = typer.Argument(..., help="Prompt file (text, or .json/.yaml chat messages), or - for stdin."),
    method: str = typer.Option(
        "auto", "--method", help=f"One of {', '.join(METHODS)}; auto = rules, then prune when --rate is given."
    ),
    rate: float | None = typer.Option(None, "--rate", help="Fraction of tokens to keep, in (0, 1] (prune)."),
    target_tokens: int | None = typer.Option(
        None, "--target-tokens", min=1, help="Tokens to keep instead of --rate (prune)."
    ),
    target: str = typer.Option(DEFAULT_TARGET, "--target", "-t", help="Model whose tokens are counted."),
    keep: list[str] | None = typer.Option(None, "--keep", help="Regex of text that must survive (repeatable)."),
    level: str = typer.Option(
        DEFAULT_LEVEL,
        "--level",
        help=f"Rules level, one of {', '.join(LEVELS)}: safe keeps the meaning; aggressive adds telegraphic edits "
        "(unverified: check them on your task).",
    ),
    model: str | None = ModelOpt,
    diff: bool = typer.Option(False, "--diff", help="Show a word-level diff instead of the prompt."),
    json_out: bool = JsonOpt,
) -> None:
    """Shorten a prompt without touching code, variables, numbers, quotes or URLs."""
    try:
        check_rate(rate)
    except Exception as exc:
        raise typer.BadParameter(str(exc), param_hint="--rate") from None
    prunes = method in ("auto", "prune")
    pruning_only = f"applies to pruning, not --method {method}: use --method prune"
    conflicts(
        ("--rate", rate is not None and not prunes, pruning_only),
        ("--target-tokens", target_tokens is not None and not prunes, pruning_only),
        ("--target-tokens", target_tokens is not None and rate is not None, "and --rate both set the length: give one"),
        ("--diff", diff and json_out, "and --json both choose the output: give one"),
    )
    prompt = load_prompt(file).to_json()  # text, or a list of chat messages
    backend = None
    if method == "rewrite" or (target == "local"):
        from ..common import backend_from

        backend = backend_from(model, None)
    result = compress_prompt(
        prompt,
        method=method,
        rate=rate,
        target_tokens=target_tokens,
        target=target,
        keep=[utf8("--keep", k) for k in keep or ()],
        backend=backend,
        prune_model=model,
        level=level,
    )
    if json_out:
        print_json(result)
    elif diff:
        write_diff(_as_text(prompt), _as_text(result.prompt))
    else:
        sys.stdout.write(_as_text(result.prompt) + "\n")
    saved = result.original_tokens - result.compressed_tokens
    status(
        f"[dim]{result.method}: {result.original_tokens} -> {result.compressed_tokens} {target} tokens "
        f"({saved / max(1, result.original_tokens):.1%} saved, {len(result.changes)} changes)[/dim]"
    )
    if result.note:
        status(f"[yellow]note:[/yellow] {result.note}")


def _as_text(prompt: str | list[dict]) -> str:
    """A text prompt as it is; chat messages as the JSON list they were read from."""
    return prompt if isinstance(prompt, str) else json.dumps(prompt, indent=2, ensure_ascii=False)


def write_diff(before: str, after: str) -> None:
    """Word-level diff: colours on a terminal, [-removed-]{+added+} when piped."""
    from promptslim.diff import word_diff

    ops = word_diff(before, after)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.text import Text

        out = Text()
        for op in ops:
            style = {"delete": "red strike", "insert": "green"}.get(op.op, "")
            out.append(op.text, style=style)
        Console(highlight=False).print(out)
        return
    marks = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
    sys.stdout.write(
        "".join(marks[op.op][0] + op.text + marks[op.op][1] if op.op in marks else op.text for op in ops) + "\n"
    )
