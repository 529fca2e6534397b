"""The corpus audit as one self-contained HTML page: summary cards, an inline-SVG bar chart of
the largest savings, and every prompt with its findings. Every piece of report text passes
through `esc`; the page carries no script and fetches nothing.
"""

from __future__ import annotations

from . import count, kwh, pct, sig, usd
from .audit import COLUMNS, co2_kg, energy_lines, headline, more_line, prompt_row, shown, volume_line
from .html import _ticks, esc, page

BARS = 15
# chart geometry: width, height of one bar's row, label column, right margin, axis band
_W, _ROW, _LABEL, _RIGHT, _AXIS = 760, 26, 250, 70, 30
MAX_FINDINGS = 40  # listed per prompt; the JSON has them all


def render(report: dict, top: int = 0) -> str:
    sections = (_header(report), _chart_section(report), _prompts_section(report, top), _problems_section(report))
    return page("promptslim audit", [s for s in sections if s], _CSS)


def _header(report: dict) -> str:
    s = report["summary"]
    cards = (
        (
            pct(s["saving_pct"]),
            "tokens saved",
            f"{count(s['tokens'])} \u2192 {count(s['tokens_after'])} {s['target']} tokens",
        ),
        (usd(s["cost_usd_year_saved"]), "saved a year", f"of {usd(s['cost_usd_year'])} on {s['target']}"),
        (kwh(s["energy_kwh_year_saved"]), "energy saved a year", f"of {kwh(s['energy_kwh_year'])}"),
        (co2_kg(s["co2_kg_year_saved"]), "CO\u2082 saved a year", f"of {co2_kg(s['co2_kg_year'])}"),
    )
    html_cards = "".join(
        f'<div class="card primary"><span class="big">{esc(big)}</span><span class="label">'
        f'{esc(label)}</span><span class="detail">{esc(detail)}</span></div>'
        for big, label, detail in cards
    )
    energy = "".join(f"<li>{esc(line)}</li>" for line in energy_lines(report))
    return (
        '<header id="summary">\n<p class="eyebrow">promptslim audit</p>\n'
        f'<h1>{esc(headline(report))}</h1>\n<p class="meta">{esc(volume_line(report))}</p>\n'
        f'<div class="cards">{html_cards}</div>\n<ul class="energy">{energy}</ul>\n</header>'
    )


def _chart_section(report: dict) -> str:
    priced = report["summary"]["cost_usd_year_saved"] is not None
    key, measure, fmt = (
        ("cost_usd_year_saved", "dollars saved a year", usd)
        if priced
        else ("energy_kwh_year_saved", "kWh saved a year", kwh)
    )
    bars = [(p["id"], p[key]) for p in report["prompts"][:BARS] if (p.get(key) or 0) > 0]
    if not bars:
        return '<section>\n<h2>Largest savings</h2>\n<p class="hint">Rules mode finds nothing to save.</p>\n</section>'
    return (
        "<section>\n<h2>Largest savings</h2>\n"
        f'<p class="hint">The {len(bars)} prompts where rules mode saves most, in {esc(measure)}.</p>\n'
        f"{_bars_svg(bars, measure, fmt)}\n</section>"
    )


def _bars_svg(bars: list[tuple[str, float]], measure: str, fmt) -> str:
    ticks = _ticks(0.0, max(v for _, v in bars))
    plot = _W - _LABEL - _RIGHT
    height = len(bars) * _ROW + _AXIS

    def x(value: float) -> float:
        return _LABEL + value / ticks[-1] * plot

    grid = "".join(
        f'<line class="grid" x1="{x(t):.1f}" y1="0" x2="{x(t):.1f}" y2="{height - _AXIS}"/>'
        f'<text class="tick" x="{x(t):.1f}" y="{height - 10}" text-anchor="middle">{esc(sig(t))}</text>'
        for t in ticks
    )
    rows = []
    for i, (name, value) in enumerate(bars):
        y = i * _ROW
        label = name if len(name) <= 36 else "\u2026" + name[-35:]
        rows.append(
            f"<g><title>{esc(name)}: {esc(fmt(value))}</title>"
            f'<text class="name" x="{_LABEL - 8}" y="{y + 17}" text-anchor="end">{esc(label)}</text>'
            f'<rect class="bar" x="{_LABEL}" y="{y + 5}" width="{x(value) - _LABEL:.1f}" height="{_ROW - 10}"/>'
            f'<text class="value" x="{x(value) + 6:.1f}" y="{y + 17}">{esc(fmt(value))}</text></g>'
        )
    return (
        f'<svg id="savings" viewBox="0 0 {_W} {height}" role="img" aria-label="{esc(measure)} per prompt">\n'
        f"{grid}\n" + "\n".join(rows) + "\n</svg>"
    )


def _prompts_section(report: dict, top: int) -> str:
    prompts = shown(report, top)
    head = "".join(f'<th class="{"num" if right else ""}">{esc(name)}</th>' for name, right in COLUMNS)
    rows = "\n".join(_prompt_row(p) for p in prompts)
    more = more_line(report, len(prompts))
    return (
        '<section>\n<h2>Prompts, largest yearly saving first</h2>\n<div class="scroll">\n'
        f'<table id="prompts">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</div>\n'
        + (f'<p class="hint">{esc(more)}</p>\n' if more else "")
        + "</section>"
    )


def _prompt_row(prompt: dict) -> str:
    cells = prompt_row(prompt)
    numbers = "".join(f'<td class="num">{esc(c)}</td>' for c in cells[1:-1])
    findings = "".join(_finding(f) for f in (prompt.get("findings") or [])[:MAX_FINDINGS])
    listed = f"<ul>{findings}</ul>" if findings else ""
    return (
        f'<tr><td class="id">{esc(cells[0])}<details><summary>prompt and findings</summary>'
        f"<pre>{esc(prompt.get('excerpt', ''))}</pre>{listed}</details></td>{numbers}"
        f"<td>{esc(cells[-1])}</td></tr>"
    )


def _finding(finding: dict) -> str:
    text = f"\u201c{finding['text']}\u201d" if finding.get("text") else ""
    change = (
        ""
        if finding.get("suggestion") is None
        else (f" \u2192 \u201c{finding['suggestion']}\u201d" if finding["suggestion"] else " \u2192 removed")
    )
    detail = f" {finding['detail']}" if finding.get("detail") else ""
    return f"<li><b>{esc(finding['rule'])}</b> {esc(text + change + detail)}</li>"


def _problems_section(report: dict) -> str:
    parts = []
    for title, problems in (("Could not be audited", report["failures"]), ("Skipped", report["notes"])):
        if problems:
            items = "".join(f"<li><code>{esc(p['source'])}</code> {esc(p['message'])}</li>" for p in problems)
            parts.append(f"<h2>{esc(title)} ({count(len(problems))})</h2>\n<ul>{items}</ul>")
    return '<section id="problems">\n' + "\n".join(parts) + "\n</section>" if parts else ""


_CSS = """
ul.energy { margin: 0; padding-left: 18px; color: var(--muted); font-size: .85rem; }
svg#savings { display: block; width: 100%; height: auto; max-width: 900px; font: 12px system-ui, sans-serif; }
svg .bar { fill: var(--win); }
svg .name { fill: var(--ink); }
svg .value { fill: var(--muted); font-variant-numeric: tabular-nums; }
#prompts td.id { min-width: 220px; overflow-wrap: anywhere; }
#prompts details { margin-top: 4px; }
#prompts summary { cursor: pointer; color: var(--pass); font-size: .8rem; }
#prompts details pre { max-height: 320px; overflow: auto; background: var(--bg); padding: 8px; border-radius: 6px; }
#prompts ul { margin: 6px 0 0; padding-left: 18px; font-size: .8rem; }
th.num { text-align: right; }
#problems li { overflow-wrap: anywhere; }
"""
