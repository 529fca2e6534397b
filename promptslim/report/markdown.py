"""The report as Markdown, sized for a pull-request comment.

Every piece of report text is escaped: in a table cell it cannot add cells, rows or markup,
and a prompt sits in a code fence longer than any run of backticks inside it.
"""

from __future__ import annotations

import html
import re

from . import (
    acceptance_rule,
    breakeven,
    by_cost,
    co2,
    decision,
    endpoint_rows,
    energy,
    energy_basis,
    headline_score,
    held_back,
    path_rows,
    per_call,
    prompt_parts,
    savings_rows,
    score_with_ci,
    tokens,
    usd,
)

_MARKUP = re.compile(r"([\\`*_\[\]|~])")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


def render(report: dict) -> str:
    sections = (
        _headline(report),
        _savings(report),
        _acceptance(report),
        _search(report),
        _spend(report),
        *_endpoints(report),
        _variants(report),
        _best_prompt(report),
    )
    return "\n\n".join(sections) + "\n"


def cell(value: object) -> str:
    """Inline text that cannot break a table row or add markup."""
    text = html.escape(str(value), quote=False)
    return _NEWLINES.sub(" ", _MARKUP.sub(r"\\\1", text)).strip()


def fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _table(header: list[str], rows: list[list[str]], align: str) -> str:
    """`align` has one letter per column: l(eft) or r(ight)."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _headline(report: dict) -> str:
    best = report.get("best") or {}
    verdict = f"Accepted: {cell(best.get('id'))} replaces the baseline." if report.get("accepted") else "Baseline kept."
    context = " · ".join(
        f"{label} {cell(report.get(key) or 'n/a')}"
        for label, key in (("objective", "objective"), ("target", "target"), ("model", "model"), ("region", "region"))
    )
    note = cell(report.get("note", ""))
    return f"## promptslim: {cell(report.get('name', ''))}\n\n**{verdict}** {note}\n\n{context}"


def _savings(report: dict) -> str:
    best_id = cell((report.get("best") or {}).get("id"))
    rows = [[f"{label} / call", before, after, saved] for _, label, before, after, saved in savings_rows(report)]
    rows.append(["Score", headline_score(report.get("baseline") or {}), headline_score(report.get("best") or {}), ""])
    return _table(["", "Baseline", f"Best ({best_id})", "Saved"], rows, "lrrr") + "\n\n" + cell(energy_basis(report))


def _acceptance(report: dict) -> str:
    best = report.get("best") or {}
    outcome = (
        f"{cell(best.get('id'))} {decision(best)}"
        if report.get("accepted")
        else "no variant both passed and beat the baseline"
    )
    text = f"**Acceptance:** {outcome}. Rule: {cell(acceptance_rule(report))}."
    if report.get("budget_exhausted"):
        text += " The search budget ran out before every variant was tried."
    return text + (" " + cell(held_back(report)) if report.get("holdout") else "")


def _search(report: dict) -> str:
    rows = [[cell(value) for value in row] for row in path_rows(report)]
    if not rows:
        return "**Search path:** no probes."
    table = _table(["Probe", "Phase", "Levels", "Verdict", "Cases", "Cheapest passing cap"], rows, "llllrl")
    return f"<details><summary>Search path: {len(rows)} probes, in order</summary>\n\n{table}\n\n</details>"


def _spend(report: dict) -> str:
    spend = report.get("spend") or {}
    return (
        f"**Optimisation spend:** {spend.get('model_calls', 0):,} model calls "
        f"({spend.get('cached_calls', 0):,} cached; trying everything needs "
        f"{spend.get('exhaustive_calls', 0):,}) in {spend.get('wall_s', 0):.1f} s. {breakeven(report)}"
    )


def _endpoints(report: dict) -> list[str]:
    rows = [[cell(value) for value in row] for row in endpoint_rows(report)]
    if not rows:
        return []
    header = ["Endpoint", "Calls", "Failed", "Calls/s", "Output tokens/s", "State"]
    return ["**Endpoints:**\n\n" + _table(header, rows, "lrrrrl")]


def _variants(report: dict) -> str:
    objective = report.get("objective", "energy")
    variants = by_cost(report.get("variants") or [], objective)
    header = [
        "Variant",
        "Status",
        "Change",
        "Score [CI]",
        "Prompt tok.",
        "Compl. tok.",
        "Energy",
        "Energy measured",
        "Cost",
        "CO\u2082",
        "Test",
    ]
    rows = [
        [
            cell(v.get("id")),
            cell(v.get("status")),
            cell(v.get("description", "")),
            score_with_ci(v),
            tokens(v.get("prompt_tokens")),
            tokens(v.get("completion_tokens")),
            energy(per_call(v, "energy_j")),
            energy(v.get("energy_j")),
            usd(v.get("cost_usd")),
            co2(per_call(v, "co2_g")),
            decision(v),
        ]
        for v in variants
    ]
    table = _table(header, rows, "lllrrrrrrrl")
    return f"<details><summary>All {len(variants)} variants, cheapest first</summary>\n\n{table}\n\n</details>"


def _best_prompt(report: dict) -> str:
    best = report.get("best") or {}
    limit = f", max_tokens {cell(best['max_tokens'])}" if best.get("max_tokens") is not None else ""
    blocks = [f"**Best prompt** ({cell(best.get('id'))}{limit}):"]
    for role, text in prompt_parts(best.get("prompt")):
        blocks += [f"*{cell(role)}*:"] if role is not None else []
        blocks.append(fenced(text))
    return "\n\n".join(blocks)
