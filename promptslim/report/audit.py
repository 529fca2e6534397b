"""The corpus audit (a plain, JSON-able dict from `AuditReport.to_dict`) as a text table, CSV
or Markdown. Rows are the first target's figures, in the report's order: largest yearly
saving first.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from . import co2, count, kwh, pct, usd
from .markdown import _table, cell

CSV_FIELDS = (
    "source",
    "id",
    "target",
    "tokens",
    "tokens_after",
    "saving_pct",
    "output_tokens",
    "cost_usd_per_1k",
    "energy_wh_per_1k",
    "co2_g_per_1k",
    "cost_usd_year",
    "energy_kwh_year",
    "co2_kg_year",
    "cost_usd_year_saved",
    "energy_kwh_year_saved",
    "co2_kg_year_saved",
    "energy_model",
    "deep_tokens_after",
    "aggressive_tokens_after",
    "findings",
)
# (header, right-aligned) of the prompt table
COLUMNS = (
    ("Prompt", False),
    ("Tokens", True),
    ("After", True),
    ("Saved", True),
    ("Aggressive", True),  # tokens after the aggressive rules: unverified
    ("$/yr saved", True),
    ("kWh/yr", True),
    ("Findings", False),
)


def top_findings(prompt: dict, limit: int = 3) -> str:
    """The most frequent findings of a prompt: "filler ×4, few-shot"."""
    counts = Counter(f["rule"] for f in prompt.get("findings") or []).most_common()
    shown = [f"{rule} \u00d7{n}" if n > 1 else rule for rule, n in counts[:limit]]
    return ", ".join(shown) + (f", +{len(counts) - limit} more" if len(counts) > limit else "")


def prompt_row(prompt: dict) -> list[str]:
    """The table's cells for one prompt, before any escaping."""
    label = f"{prompt['id']} ({prompt['name']})" if prompt.get("name") else str(prompt["id"])
    return [
        label,
        count(prompt["tokens"]),
        count(prompt["tokens_after"]),
        pct(prompt["saving_pct"]),
        _aggressive(prompt),
        usd(prompt.get("cost_usd_year_saved")),
        kwh(prompt.get("energy_kwh_year")),
        top_findings(prompt),
    ]


def headline(report: dict) -> str:
    s = report["summary"]
    failed = f" ({count(s['failures'])} failed)" if s["failures"] else ""
    deep = s.get("deep_tokens_after")
    pruned = (
        f", {count(deep)} after pruning with the local model "
        f"({pct(100 * (s['tokens'] - deep) / s['tokens'] if s['tokens'] else 0)} saved)"
        if deep is not None
        else ""
    )
    level = s.get("level", "safe")
    terse = (
        f", {count(s['aggressive_tokens_after'])} after aggressive rules ({pct(s['aggressive_saving_pct'])} saved, "
        "unverified: check them on your task)"
        if level == "safe" and s.get("aggressive_tokens_after") is not None
        else ""
    )
    return (
        f"{count(s['prompts'])} prompts{failed}: {count(s['tokens'])} {s['target']} tokens, "
        f"{count(s['tokens_after'])} after rules mode ({level}, {pct(s['saving_pct'])} saved){terse}{pruned}"
    )


def _aggressive(prompt: dict) -> str:
    after = prompt.get("aggressive_tokens_after")
    return "" if after is None else count(after)


def volume_line(report: dict) -> str:
    s = report["summary"]
    return (
        f"At {count(round(s['calls_per_day']))} calls a day each: {kwh(s['energy_kwh_year'])}, "
        f"{co2_kg(s['co2_kg_year'])} CO\u2082 and {usd(s['cost_usd_year'])} a year; rules mode saves "
        f"{kwh(s['energy_kwh_year_saved'])}, {co2_kg(s['co2_kg_year_saved'])} CO\u2082 and "
        f"{usd(s['cost_usd_year_saved'])} a year."
    )


def energy_lines(report: dict) -> list[str]:
    return [f"{t['target']}: {t['energy_model']['source']} ({t['energy_model']['detail']})" for t in report["targets"]]


def co2_kg(kg: float | None) -> str:
    return co2(None if kg is None else kg * 1000)


def more_line(report: dict, shown: int, rows: str = "prompts") -> str:
    rest = len(report[rows]) - shown
    return f"\u2026 and {count(rest)} more {rows} (--top 0 lists them all)" if rest > 0 else ""


def shown(report: dict, top: int, rows: str = "prompts") -> list[dict]:
    return report[rows][:top] if top else report[rows]


# ---------------------------------------------------------------- text


def to_table(report: dict, top: int = 0) -> str:
    """A fixed-width table for a terminal, then the summary."""
    rows = [prompt_row(p) for p in shown(report, top)]
    for row in rows:
        row[0] = row[0] if len(row[0]) <= 48 else "\u2026" + row[0][-47:]  # the end of a path says most
    more = more_line(report, len(rows))
    lines = [*fixed_width(COLUMNS, rows), *([more] if more else []), "", headline(report), volume_line(report)]
    return "\n".join(lines + ["energy model for " + e for e in energy_lines(report)]) + "\n"


def fixed_width(columns: tuple[tuple[str, bool], ...], rows: list[list[str]]) -> list[str]:
    """The header and the rows, each column as wide as its widest cell."""
    header = [name for name, _ in columns]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(columns))]
    return [
        "  ".join(c.rjust(w) if right else c.ljust(w) for c, w, (_, right) in zip(cells, widths, columns)).rstrip()
        for cells in [header, *rows]
    ]


# ---------------------------------------------------------------- CSV


def to_csv(report: dict) -> str:
    """One row per prompt and target."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for prompt in report["prompts"]:
        for figures in prompt["targets"]:
            writer.writerow(
                {**figures, "source": prompt["source"], "id": prompt["id"], "findings": top_findings(prompt, limit=99)}
            )
    return out.getvalue()


# ---------------------------------------------------------------- Markdown


def to_markdown(report: dict, top: int = 20) -> str:
    """Sized for a pull-request comment: summary, the largest savings, failures folded away."""
    s = report["summary"]
    totals = _table(
        ["Per year", "Total", "Saved by rules mode"],
        [
            ["Energy", kwh(s["energy_kwh_year"]), kwh(s["energy_kwh_year_saved"])],
            ["CO\u2082", co2_kg(s["co2_kg_year"]), co2_kg(s["co2_kg_year_saved"])],
            [f"Cost on {cell(s['target'])}", usd(s["cost_usd_year"]), usd(s["cost_usd_year_saved"])],
        ],
        "lrr",
    )
    rows = [[cell(c) for c in prompt_row(p)] for p in shown(report, top)]
    sections = [f"## promptslim audit\n\n**{cell(headline(report))}**\n\n{cell(volume_line(report))}", totals]
    if rows:
        table = _table([name for name, _ in COLUMNS], rows, "".join("r" if right else "l" for _, right in COLUMNS))
        sections.append(f"### Largest savings\n\n{table}\n\n{more_line(report, len(rows))}".rstrip())
    sections += [
        _problems("failed", report["failures"]),
        _problems("notes", report["notes"]),
        "Energy: " + "; ".join(cell(e) for e in energy_lines(report)),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _problems(title: str, problems: list[dict], limit: int = 50) -> str:
    if not problems:
        return ""
    items = "\n".join(f"- {cell(p['source'])}: {cell(p['message'])}" for p in problems[:limit])
    rest = f"\n- \u2026 and {count(len(problems) - limit)} more" if len(problems) > limit else ""
    return f"<details><summary>{count(len(problems))} {title}</summary>\n\n{items}{rest}\n\n</details>"
