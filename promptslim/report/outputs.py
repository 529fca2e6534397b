"""The files an optimisation writes: the winning spec and report.{json,md,html}."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import InputError
from . import to_html, to_json, to_markdown

if TYPE_CHECKING:
    from ..optimize import OptimizeResult
    from ..spec import Spec


def write_outputs(result: OptimizeResult, spec: Spec, out_dir: str | Path) -> list[Path]:
    """The winning spec, report.json, report.md and report.html; the source spec is never touched."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory: give a directory")
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / f"{_safe_name(spec.name)}.optimized.yaml"
    if spec.path is not None and spec_path.resolve() == spec.path.resolve():
        raise InputError(f"--out {out}: would overwrite the source spec {spec.path}: choose another directory")
    report = result.to_dict()
    files = {
        spec_path: winning_spec(result, spec, out),
        out / "report.json": to_json(report) + "\n",
        out / "report.md": to_markdown(report),
        out / "report.html": to_html(report),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-.") or "task"


def winning_spec(result: OptimizeResult, spec: Spec, out: Path) -> str:
    """The source spec with the winning prompt and max_tokens; cases still point at the source."""
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
    if isinstance(data.get("cases"), str) and spec.path is not None:
        source_cases = (spec.path.parent / data["cases"]).resolve()
        ordered["cases"] = os.path.relpath(source_cases, out.resolve())

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = ("|" if value.strip() else '"') if "\n" in value else None  # "\n" alone reads better quoted
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    header = f"# {spec.name}, optimised by promptslim: {result.note}\n"
    return header + yaml.dump(ordered, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=1000)
