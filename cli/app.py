"""Entry point: builds the typer app and turns library errors into one-line messages."""

from __future__ import annotations

import sys

import typer

import promptslim
from promptslim.errors import BackendUnavailable, PromptslimError

from .commands import audit, calibrate, compress, count, optimize, run

app = typer.Typer(
    name="promptslim",
    help="Make LLM prompts cheaper and greener without making them worse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (optimize, run, count, compress, audit, calibrate):
    module.register(app)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"promptslim {promptslim.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Make LLM prompts cheaper and greener without making them worse."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. `--debug` anywhere shows tracebacks instead of one-line errors."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args=args, prog_name="promptslim")  # click reports its own usage errors (exit 2)
    except (PromptslimError, BackendUnavailable) as exc:
        if debug:
            raise
        typer.echo(f"promptslim: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("promptslim: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"promptslim: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", err=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
