"""The log audit (`LogReport.to_dict`) as a text table, CSV, Markdown or one HTML page: templates
in the report's order, largest yearly cost first, each with its real calls and tokens."""

from __future__ import annotations

import csv
import io

from ..findings import line_excerpt
from . import count, kwh, pct, usd
from .audit import _problems, co2_kg, energy_lines, fixed_width, more_line, shown
from .audit_html import _CSS, _problems_section
from .html import esc, page
from .markdown import _table, cell

CSV_FIELDS = (
    "template",
    "calls",
    "calls_per_day",
    "prompt_tokens_mean",
    "prompt_tokens_p95",
    "completion_tokens_mean",
    "completion_tokens_p95",
    "length_capped",
    "cost_usd_year",
    "energy_kwh_year",
    "co2_kg_year",
    "rules_saving_pct",
    "cost_usd_year_saved",
    "model",
    "output_note",
)
# (header, right-aligned)
COLUMNS = (
    ("Template", False),
    ("Calls", True),
    ("Calls/day", True),
    ("Prompt tok", True),
    ("Output tok (p95)", True),
    ("$/yr", True),
    ("kWh/yr", True),
    ("Rules saves", True),
)
TEMPLATE_CHARS = 60  # of a template, in the table


def template_row(t: dict, chars: int = TEMPLATE_CHARS) -> list[str]:
    return [
        line_excerpt(t["template"], chars),
        count(t["calls"]),
        f"{t['calls_per_day']:,.1f}",
        f"{t['prompt_tokens_mean']:,.0f}",
        f"{t['completion_tokens_mean']:,.0f} ({count(t['completion_tokens_p95'])})",
        usd(t["cost_usd_year"]),
        kwh(t["energy_kwh_year"]),
        pct(t["rules_saving_pct"]),
    ]


def headline(report: dict) -> str:
    s = report["summary"]
    failed = f" ({count(s['failures'])} records unreadable)" if s["failures"] else ""
    span = f"{s['span_days']:,.1f} days" if s["span_measured"] else "no timestamps, taken as one day"
    return f"{count(s['calls'])} calls of {count(s['templates'])} templates over {span}{failed}"


def volume_line(report: dict) -> str:
    s = report["summary"]
    return (
        f"At the log's {s['calls_per_day']:,.0f} calls a day on {s['target']}: {usd(s['cost_usd_year'])}, "
        f"{kwh(s['energy_kwh_year'])} and {co2_kg(s['co2_kg_year'])} CO\u2082 a year; rules mode on the "
        f"templates' fixed parts saves {usd(s['cost_usd_year_saved'])} and {kwh(s['energy_kwh_year_saved'])}."
    )


def notes(templates: list[dict]) -> list[str]:
    return [f"{line_excerpt(t['template'], 40)}: {t['output_note']}" for t in templates if t.get("output_note")]


def _shown(report: dict, top: int) -> tuple[list[dict], str]:
    templates = shown(report, top, "templates")
    return templates, more_line(report, len(templates), "templates")


def to_table(report: dict, top: int = 0) -> str:
    templates, more = _shown(report, top)
    rows = [template_row(t) for t in templates]
    lines = [*fixed_width(COLUMNS, rows), *([more] if more else []), "", headline(report), volume_line(report)]
    lines += notes(templates) + ["energy model for " + e for e in energy_lines(report)]
    return "\n".join(lines) + "\n"


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(report["templates"])
    return out.getvalue()


def to_markdown(report: dict, top: int = 20) -> str:
    templates, more = _shown(report, top)
    rows = [[cell(c) for c in template_row(t)] for t in templates]
    align = "".join("r" if right else "l" for _, right in COLUMNS)
    sections = [f"## promptslim log audit\n\n**{cell(headline(report))}**\n\n{cell(volume_line(report))}"]
    if rows:
        table = _table([name for name, _ in COLUMNS], rows, align)
        sections.append(f"### Templates by yearly cost\n\n{table}\n\n{more}".rstrip())
    sections += [
        "\n".join(f"- {cell(n)}" for n in notes(templates)),
        _problems("unreadable records", report["failures"]),
        "Energy: " + "; ".join(cell(e) for e in energy_lines(report)),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def to_html(report: dict, top: int = 0) -> str:
    templates, more = _shown(report, top)
    head = "".join(f'<th class="{"num" if right else ""}">{esc(name)}</th>' for name, right in COLUMNS)
    rows = "\n".join(
        f'<tr><td class="id">{esc(cells[0])}<details><summary>template</summary><pre>{esc(t["template"])}</pre>'
        f"{'<p>' + esc(t['output_note']) + '</p>' if t.get('output_note') else ''}</details></td>"
        + "".join(f'<td class="num">{esc(c)}</td>' for c in cells[1:])
        + "</tr>"
        for t, cells in ((t, template_row(t)) for t in templates)
    )
    energy = "".join(f"<li>{esc(line)}</li>" for line in energy_lines(report))
    sections = [
        '<header id="summary">\n<p class="eyebrow">promptslim log audit</p>\n'
        f'<h1>{esc(headline(report))}</h1>\n<p class="meta">{esc(volume_line(report))}</p>\n'
        f'<ul class="energy">{energy}</ul>\n</header>',
        '<section>\n<h2>Templates, largest yearly cost first</h2>\n<div class="scroll">\n'
        f'<table id="prompts">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</div>\n'
        + (f'<p class="hint">{esc(more)}</p>\n' if more else "")
        + "</section>",
        _problems_section(report),
    ]
    return page("promptslim log audit", [s for s in sections if s], _CSS)


def render(report: dict, fmt: str, top: int) -> str:
    if fmt == "csv":
        return to_csv(report)
    return {"table": to_table, "md": to_markdown, "html": to_html}[fmt](report, top)
