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


class BackendUnavailable(Exception):
    """The backend cannot serve any call: the endpoint is unreachable after retries, or it
    refuses the key or the model. It ends the whole run, so it is deliberately not a
    PromptslimError, which a caller may catch per call (a failed case scores 0 and the run
    goes on); `exit_code` is the CLI's exit code, as there."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
