"""Entry point: builds the typer app and turns library errors into one-line messages."""

from __future__ import annotations

import sys

import typer

import promptslim
from promptslim.errors import BackendUnavailable, PromptslimError
from promptslim.files import shown

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
    """Run the CLI. `--debug` anywhere shows tracebacks instead of one-line errors.

    Every error is one line on stderr, `promptslim: error: ...`, naming the input and the fix:
    exit 2 for usage and input errors, 1 for runtime failures, 3 for a failed gate."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"] or ["--help"]
    _reconfigure_output()
    try:
        code = app(args=args, prog_name="promptslim", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors: a bad option, value or argument
        if debug:
            raise
        _fail(_usage(exc), getattr(exc, "exit_code", 2))
    except (PromptslimError, BackendUnavailable) as exc:
        if debug:
            raise
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", 130, prefix="promptslim: ")
    except Exception as exc:
        if debug:
            raise
        message = f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)"
        _fail(message, 1, prefix="promptslim: ")
    if code == 130:  # Ctrl-C inside a command: typer turns it into an exit code
        _fail("interrupted", 130, prefix="promptslim: ")
    if code:
        sys.exit(code)


def _usage(exc: typer.TyperException) -> str:
    """A usage error as one line that names the command and where its options are listed."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "promptslim"
    return f"{exc.format_message()} (see {command} --help)"


def _fail(message: str, code: int, *, prefix: str = "promptslim: error: ") -> None:
    """One line on stderr, whatever the message holds (newlines, escape sequences), then exit."""
    typer.echo(prefix + shown(" ".join(message.split())), err=True)
    sys.exit(code)


def _reconfigure_output() -> None:
    """Text a result holds that UTF-8 cannot (a lone surrogate from a JSON escape) goes out as a
    backslash escape, not as an encoding error after half the output."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
