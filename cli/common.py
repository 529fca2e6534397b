"""Pieces every command shares: options, input reading, key=value parsing, output."""

from __future__ import annotations

import math
import sys

import typer
from rich.console import Console

from promptslim.errors import InputError
from promptslim.files import shown
from promptslim.serialize import dumps

stderr = Console(stderr=True, highlight=False, soft_wrap=True)

ModelOpt = typer.Option(
    None,
    "--model",
    "-m",
    help="GGUF path (local), or the endpoint's model name with --base-url.",
    envvar="PROMPTSLIM_MODEL",
    show_envvar=True,
)
BaseUrlOpt = typer.Option(
    None,
    "--base-url",
    metavar="URL",
    help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1. Give it several times (or commas between "
    "URLs) for a pool of endpoints serving the same model: calls spread over them, one that dies is dropped.",
    envvar=["PROMPTSLIM_ENDPOINTS", "OPENAI_BASE_URL"],
    show_envvar=True,
)
TargetOpt = typer.Option(None, "--target", "-t", help="Model whose tokens and prices are reported, e.g. gpt-4o.")
RegionOpt = typer.Option(None, "--region", help="ISO country code for grid carbon intensity (default: world average).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout.")
ModeOpt = typer.Option(
    None,
    "--mode",
    help="completion (raw text) or chat (the model's chat template); "
    "default: chat for a file of messages, else completion.",
)


def finite(value: float | None) -> float | None:
    """A typer callback: inf and nan parse as floats but are no setting."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number: give a number such as 1000")
    return value


def conflicts(*pairs: tuple[str, bool, str]) -> None:
    """Refuse an option that would be silently ignored: each (option, given, why-ignored)."""
    for option, given, why in pairs:
        if given:
            raise InputError(f"{option} {why}")


def utf8(option: str, value: str) -> str:
    """A command-line value, unless it holds bytes that are not UTF-8 (Python keeps them as
    lone surrogates, which no prompt, tokenizer or file can hold)."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise InputError(f"{option} {shown(value)}: not valid UTF-8: give the value in UTF-8")
    return value


def parse_vars(pairs: list[str] | None) -> dict[str, str]:
    values = {}
    for pair in pairs or []:
        name, sep, value = utf8("--var", pair).partition("=")
        if not sep or not name.strip():
            raise InputError(f"--var {shown(repr(pair))}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


def backend_from(model: str | None, base_url: list[str] | None, concurrency: int = 1):
    """The backend the options name; `concurrency` is per endpoint for a pool of them."""
    from promptslim.runtime import open_backend

    return open_backend(model, base_url=base_url, concurrency=concurrency)


def print_json(value) -> None:
    sys.stdout.write(dumps(value) + "\n")


def status(message: str) -> None:
    stderr.print(message)
