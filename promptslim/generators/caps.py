"""Output caps, the biggest energy lever: max_tokens levels and fitted brevity instructions.

The output format is detected from the prompt (labels shown in demonstrations or listed in
the instruction, JSON, numbers, free text). A brevity instruction replaces an existing
output-format sentence rather than piling on; in completion prompts it goes at the top, so
the prompt still ends where the model must answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..prompt import Message, Prompt
from ..protect import protect
from .shots import find_demonstrations

_OUTPUT_SENTENCE = re.compile(
    r"[^.!?\n]*\b(?:answer|respond|reply|return|output|write|keep|give|limit|use)\b[^.!?\n]*"
    r"\b(?:only|one word|single word|words?|sentences?|brief|briefly|short|concise|concisely|json|at most|"
    r"no more than|label|category|number|format)\b[^.!?\n]*[.!?]?[ \t]*",
    re.I,
)
# in lower case, searched in the lower-cased text: what re.I finds, without folding the case
# of every character the engine tries
_LENGTH_HINT = re.compile(
    r"\b(?:one word|single word|one sentence|in at most|no more than|under \d+|at most \d+|\d+ words|\d+ sentences|"
    r"brief(?:ly)?|concise(?:ly)?|short answer|only the (?:json|label|number|category|answer)|return only|answer only|"
    r"respond only|reply only|nothing else|just the (?:label|answer|number|category|word))\b"
    r"|字以内|一句话|简短|只输出|只回答"
)
# the three letters re.I matches to an ASCII letter that str.lower() does not lower to it
_ASCII_CASE_FIXES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
_LIST_OF_LABELS = re.compile(
    r"\b(?:one of|either|choose from|categories?|labels?)\b[^.\n:]*[:]?\s*([\w-]+(?:\s*(?:,|/|\bor\b)\s*[\w-]+)+)", re.I
)


@dataclass(frozen=True)
class OutputFormat:
    kind: str  # label | json | number | text
    labels: tuple[str, ...] = ()


def has_length_instruction(text: str) -> bool:
    """Does the prompt already tell the model how long (or what shape) the answer is?"""
    if not text.isascii() and any(c in text for c in "\u0130\u0131\u017f"):
        text = text.translate(_ASCII_CASE_FIXES)  # slow: only where it changes something
    return bool(_LENGTH_HINT.search(text.lower()))


def detect_format(text: str, labels: Sequence[str] = ()) -> OutputFormat:
    if labels:
        return OutputFormat("label", tuple(labels))
    demos = find_demonstrations(text)
    demo_labels = tuple(dict.fromkeys(d.label for d in demos if d.label)) if len(demos) >= 2 else ()
    if demo_labels and all(len(label.split()) <= 3 for label in demo_labels):
        if all(re.fullmatch(r"[-+$]?\d[\d,.]*", label) for label in demo_labels):
            return OutputFormat("number")
        if len(demo_labels) <= 12:
            return OutputFormat("label", demo_labels)
    if re.search(r"\bjson\b", text, re.I):
        return OutputFormat("json")
    listed = _LIST_OF_LABELS.search(text)
    if listed:
        found = tuple(w.strip() for w in re.split(r"\s*(?:,|/|\bor\b)\s*", listed.group(1)) if w.strip())
        if 2 <= len(found) <= 12:
            return OutputFormat("label", found)
    if re.search(r"\b(?:how many|amount|total|number|price|count)\b", text, re.I) and demo_labels:
        return OutputFormat("number")
    return OutputFormat("text")


def brevity_instruction(fmt: OutputFormat, words: int = 30) -> str:
    if fmt.kind == "label":
        options = " or ".join(fmt.labels) if len(fmt.labels) <= 3 else ", ".join(fmt.labels)
        return f"Answer with one word: {options}."
    if fmt.kind == "json":
        return "Return only the JSON object."
    if fmt.kind == "number":
        return "Answer with the number only."
    return f"Answer in at most {words} words."


def token_levels(fmt: OutputFormat, baseline: int, label_tokens: int = 4) -> list[int]:
    """max_tokens caps below the baseline, fitted to the output format."""
    if fmt.kind in ("label", "number"):
        levels = {label_tokens + 2, label_tokens * 2 + 4, 16}
    elif fmt.kind == "json":
        levels = {baseline // 2, 256, 128}
    else:
        levels = {baseline // 2, baseline // 4, 64}
    return sorted((n for n in levels if 1 <= n < baseline), reverse=True)


def with_instruction(prompt: Prompt, instruction: str) -> Prompt:
    """Replace the prompt's output-format sentence with `instruction`, or add it at the top."""
    if prompt.is_chat:
        messages = list(prompt.messages)
        for i, message in enumerate(messages):
            if message.role in ("system", "user") and _OUTPUT_SENTENCE.search(message.content):
                messages[i] = Message(message.role, _replace_sentence(message.content, instruction))
                return Prompt(messages=tuple(messages))
        if messages[0].role == "system":
            messages[0] = Message("system", messages[0].content.rstrip() + "\n" + instruction)
        else:
            messages.insert(0, Message("system", instruction))
        return Prompt(messages=tuple(messages))
    text = prompt.text
    if _OUTPUT_SENTENCE.search(_instruction_part(text)):
        return Prompt(text=_replace_sentence(text, instruction))
    return Prompt(text=f"{instruction}\n{text}")


def _instruction_part(text: str) -> str:
    demos = find_demonstrations(text)
    return text[: demos[0].start] if demos else text


def _replace_sentence(text: str, instruction: str) -> str:
    """Swap the first output-format sentence outside protected spans for the instruction."""
    protected = protect(text)
    for match in _OUTPUT_SENTENCE.finditer(text):
        sentence = match.group(0)
        start = match.start() + len(sentence) - len(sentence.lstrip())
        if sentence.strip() and not any(s.start < match.end() and start < s.end for s in protected.spans):
            rest = text[match.end() :]
            joiner = "" if rest.startswith("\n") or not rest else " "
            return text[:start] + instruction + joiner + rest.lstrip(" ")
    return f"{instruction}\n{text}"


@dataclass(frozen=True)
class CapOption:
    """A tighter max_tokens and stop sequences added to the caller's, for one prompt's calls."""

    max_tokens: int
    stop: tuple[str, ...] = ()

    def describe(self, baseline_max_tokens: int) -> str:
        added = f" and stop {', '.join(repr(s) for s in self.stop)}" if self.stop else ""
        if self.max_tokens >= baseline_max_tokens:
            return f"caps: stop {', '.join(repr(s) for s in self.stop)}" if self.stop else "caps: none"
        return f"caps: max_tokens {baseline_max_tokens} -> {self.max_tokens}{added}"


def under_option(
    text: str, generated: int, finish_reason: str, pieces: list[bytes] | None, option: CapOption
) -> tuple[str, int] | None:
    """The answer and generated tokens a call would give under `option`, from the same call's
    answer without it: at temperature 0 a capped answer is the uncapped one's first tokens, and
    an added stop sequence cuts it where the token holding the stop was generated. `pieces` are
    the answer's token pieces (`Backend.answer_pieces`); None where the result is not exact."""
    found = [(text.find(s), s) for s in option.stop if s in text]
    cut, stop = min(found) if found else (-1, "")
    if pieces is None:  # without the tokenizer only an option that changes nothing is exact
        return (text, generated) if cut < 0 and option.max_tokens >= generated else None
    if finish_reason == "length" and cut < 0 and len(pieces) != generated:
        return None  # the model's tokens are not the tokenizer's: truncation would guess
    if cut >= 0:  # generation stops with the token that completes the stop sequence
        holder = _piece_at(pieces, len(text[: cut + len(stop)].encode("utf-8")) - 1)
        text, generated, pieces = text[:cut], holder + 1, pieces[:holder]
    if option.max_tokens >= generated:
        return text, generated
    if option.max_tokens <= len(pieces):
        return b"".join(pieces[: option.max_tokens]).decode("utf-8", "ignore"), option.max_tokens
    return None  # the cap falls inside tokens the stop sequence hid from the text


def _piece_at(pieces: list[bytes], offset: int) -> int:
    """Index of the piece holding byte `offset` of the joined pieces."""
    total = 0
    for index, piece in enumerate(pieces):
        total += len(piece)
        if total > offset:
            return index
    return len(pieces) - 1
