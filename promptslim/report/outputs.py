"""The files an optimisation writes: the winning spec and report.{json,md,html}.

Each is written atomically (see `files.atomic_writer`), and none may be one of the spec's
inputs: `check_outputs` says so before any model call, `write_outputs` again before writing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import InputError
from ..files import inside, prepare_folder, same_file, shown, write_text
from . import to_html, to_json, to_markdown

if TYPE_CHECKING:
    from ..optimize import OptimizeResult
    from ..spec import Spec

REPORTS = ("report.json", "report.md", "report.html")


def output_paths(spec: Spec, out_dir: str | Path) -> list[Path]:
    """Where `write_outputs` writes: the winning spec, then the reports."""
    out = Path(out_dir)
    return [out / f"{_safe_name(spec.name)}.optimized.yaml", *(out / name for name in REPORTS)]


def check_outputs(spec: Spec, out_dir: str | Path) -> list[Path]:
    """Before any work: the output folder exists (it is created) and is writable, and no output
    would replace one of the spec's inputs (the spec, its cases file, its scorer module)."""
    prepare_folder(out_dir, option="--out")
    paths = output_paths(spec, out_dir)
    for path in paths:
        if path.is_dir():
            raise InputError(f"--out {shown(out_dir)}: {shown(path)} is a folder: remove it or write elsewhere")
        for source in spec.inputs:
            if same_file(path, source):
                raise InputError(
                    f"--out {shown(out_dir)}: would overwrite {shown(source)}, which the spec reads: "
                    "choose another folder"
                )
    return paths


def write_outputs(result: OptimizeResult, spec: Spec, out_dir: str | Path) -> list[Path]:
    """The winning spec, report.json, report.md and report.html; no input of the spec is touched."""
    paths = check_outputs(spec, out_dir)
    report = result.to_dict()
    texts = [winning_spec(result, spec, Path(out_dir)), to_json(report) + "\n", to_markdown(report), to_html(report)]
    for path, text in zip(paths, texts):
        write_text(path, text)
    return paths


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-.") or "task"


def winning_spec(result: OptimizeResult, spec: Spec, out: Path) -> str:
    """The source spec with the winning prompt, max_tokens and stop sequences. Its cases are the source's: the
    same file when it lies in the output folder, else written inline (a cases path is only
    read from the spec's own folder)."""
    data = dict(spec.source)
    data.pop("prompt", None)
    data.pop("messages", None)
    key = "messages" if result.best_prompt.is_chat else "prompt"
    ordered = {}
    for name, value in data.items():
        ordered[name] = value
        if name == "mode":
            ordered[key] = result.best_prompt.to_json()
    ordered.setdefault(key, result.best_prompt.to_json())
    ordered["max_tokens"] = result.best_max_tokens
    if result.best_stop is not None:  # the search added a stop sequence
        ordered["stop"] = list(result.best_stop)
    if isinstance(data.get("cases"), str) and spec.path is not None:
        source_cases = (spec.path.parent / data["cases"]).resolve()
        if inside(source_cases, out):  # the winning spec loads where it is, without --allow-outside
            ordered["cases"] = os.path.relpath(source_cases, out.resolve())
        else:
            ordered["cases"] = [{"id": c.id, "vars": dict(c.vars), "expected": c.expected} for c in spec.cases]

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = ("|" if value.strip() else '"') if "\n" in value else None  # "\n" alone reads better quoted
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    header = f"# {shown(spec.name)}, optimised by promptslim: {shown(result.note)}\n"  # one comment line
    return header + yaml.dump(ordered, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=1000)
