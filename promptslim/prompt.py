"""Prompts: plain text (completion mode) or chat messages, with {{var}} templates.

Template variables are filled by plain substitution; nothing in a prompt is ever executed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError
from .files import STDIN, is_json_name, parse, shown
from .files import read_text as read_checked

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class Message:
    role: str
    content: str

    def to_dict(self) -> dict:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Prompt:
    """Either `text` (a completion prompt) or `messages` (a chat), never both."""

    text: str | None = None
    messages: tuple[Message, ...] | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.messages is None):
            raise ValueError("a Prompt holds either text or messages")

    @classmethod
    def of(cls, value: str | Prompt | Iterable[Mapping[str, str]]) -> Prompt:
        """Accept a Prompt, a string, or OpenAI-style message dicts."""
        if isinstance(value, Prompt):
            return value
        if isinstance(value, str):
            return cls(text=value)
        return cls(messages=tuple(_message(m, i) for i, m in enumerate(value)))

    @property
    def is_chat(self) -> bool:
        return self.messages is not None

    @property
    def default_mode(self) -> str:
        """How the prompt is sent unless told otherwise: messages as a chat, text as it is."""
        return "chat" if self.is_chat else "completion"

    def parts(self) -> list[str]:
        """Every piece of text the prompt holds, in order."""
        return [self.text] if self.text is not None else [m.content for m in self.messages]

    def map_text(self, fn: Callable[[str], str]) -> Prompt:
        """A copy with `fn` applied to every piece of text."""
        if self.text is not None:
            return replace(self, text=fn(self.text))
        return replace(self, messages=tuple(Message(m.role, fn(m.content)) for m in self.messages))

    def variables(self) -> list[str]:
        """Template variable names in order of first appearance."""
        seen: dict[str, None] = {}
        for part in self.parts():
            for match in VARIABLE.finditer(part):
                seen.setdefault(match.group(1), None)
        return list(seen)

    def render(self, values: Mapping[str, object]) -> Prompt:
        """Fill every {{var}}; a variable without a value is an input error naming it."""
        missing = [name for name in self.variables() if name not in values]
        if missing:
            raise InputError(f"prompt variable '{missing[0]}' has no value: pass it (e.g. --var {missing[0]}=VALUE)")
        return self.map_text(lambda s: VARIABLE.sub(lambda m: str(values[m.group(1)]), s))

    def as_messages(self) -> list[dict]:
        """Chat messages; a text prompt becomes one user message."""
        if self.messages is None:
            return [{"role": "user", "content": self.text}]
        return [m.to_dict() for m in self.messages]

    def as_text(self) -> str:
        if self.text is None:
            raise InputError("completion mode needs a text prompt, not chat messages: use --mode chat")
        return self.text

    def to_json(self) -> str | list[dict]:
        return self.text if self.text is not None else self.as_messages()


def _message(value: Mapping[str, str], index: int) -> Message:
    if not isinstance(value, Mapping) or "role" not in value or "content" not in value:
        raise InputError(f"message {index + 1} needs 'role' and 'content'")
    role, content = value["role"], value["content"]
    if role not in ROLES or not isinstance(content, str):
        raise InputError(f"message {index + 1}: role must be one of {', '.join(ROLES)} and content a string")
    return Message(role, content)


def read_text(source: str | Path, *, stdin=None) -> str:
    """Read a prompt file (or '-' for stdin) through the one checked reader; errors name the file
    and the fix."""
    text = read_checked(source, fix="split the prompt", stdin=stdin)
    if not text.strip():
        name = "<stdin>" if str(source) == STDIN else source
        raise InputError(f"{shown(name)}: the prompt is empty: write a prompt into it")
    return drop_final_newline(text)


STRUCTURED_SUFFIXES = (".json", ".yaml", ".yml")


def load_prompt(source: str | Path, *, stdin=None) -> Prompt:
    """A prompt file: plain text, or a .json/.yaml/.yml file holding a list of chat messages or
    a spec with a `messages` or `prompt` key (any other JSON or YAML is a text prompt)."""
    text = read_text(source, stdin=stdin)
    name = str(source).lower()
    value = _structured(text, str(source)) if name.endswith(STRUCTURED_SUFFIXES) else None
    if value is None:
        return Prompt(text=text)
    try:
        return prompt_from_value(value)
    except InputError as exc:
        raise InputError(f"{shown(source)}: {exc}") from None


def _structured(text: str, name: str):
    """The messages or prompt a JSON or YAML prompt file holds; None when it is not one."""
    try:
        data = parse(text, name, as_json=is_json_name(name))
    except InputError:
        return None
    if isinstance(data, dict):
        return data.get("messages", data.get("prompt"))
    return data if is_messages(data) else None


def is_messages(value) -> bool:
    """Does a parsed JSON or YAML value look like a list of chat messages?"""
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def prompt_from_value(value) -> Prompt:
    """A prompt from a text or a list of {role, content} messages, as specs and records hold them."""
    if isinstance(value, list) and value:
        return Prompt.of(value)
    if isinstance(value, str):
        return Prompt(text=drop_final_newline(value))
    raise InputError("not a text or a list of {role, content} messages")


def drop_final_newline(text: str) -> str:
    """Editors (and YAML block scalars) end text with a newline; a completion prompt must end
    where its author stopped typing."""
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
