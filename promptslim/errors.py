"""Errors the library raises; each carries the exit code the CLI should use."""


class PromptslimError(Exception):
    """Base class. The message is one line that names the input and the fix."""

    exit_code = 1


class InputError(PromptslimError):
    """Bad input or usage: a file, a value, a spec. Exit code 2."""

    exit_code = 2


class RuntimeFailure(PromptslimError):
    """Something failed while running: a model, a server, a network. Exit code 1."""

    exit_code = 1


class GateFailure(PromptslimError):
    """A budget or acceptance gate failed. Exit code 3."""

    exit_code = 3
