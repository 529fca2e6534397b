"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched.

Every piece of report text passes through `esc` (html.escape, quotes included); the
Content-Security-Policy forbids scripts as a second line of defence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from difflib import SequenceMatcher
from html import escape

from ..diff import word_diff
from . import (
    CO2_UNITS,
    ENERGY_UNITS,
    OBJECTIVES,
    acceptance_rule,
    breakeven,
    by_cost,
    co2,
    cost_of,
    decision,
    endpoint_rows,
    energy,
    energy_basis,
    headline_score,
    held_back,
    measures,
    objective_cost,
    path_rows,
    per_call,
    prompt_parts,
    savings_rows,
    score,
    score_ci,
    score_with_ci,
    sig,
    tokens,
    unit_for,
    usd,
)

_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_STATUSES = ("winner", "baseline", "passed", "dropped", "failed", "not run")
# chart geometry: viewBox size and the plot area's margins
_W, _H = 760, 420
_LEFT, _RIGHT, _TOP, _BOTTOM = 80, 24, 24, 58

Point = tuple[dict, float, float]  # (variant, cost, score)
Part = tuple[str | None, str]  # (role, text) of a prompt


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def render(report: dict) -> str:
    sections = (
        _header(report),
        _chart_section(report),
        _diff_section(report),
        _variants_section(report),
        _path_section(report),
        _cases_section(report),
        _spend_section(report),
    )
    return page(f"promptslim report: {report.get('name', '')}", sections)


def page(title: str, sections: Iterable[str], css: str = "") -> str:
    """A whole page around the sections: the shared style (plus `css`), no scripts, nothing fetched."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}{css}</style>\n"
        "</head>\n<body>\n<main>\n" + "\n".join(sections) + "\n</main>\n</body>\n</html>\n"
    )


def _status_class(status: object) -> str:
    # a class name built from data could carry markup: only known statuses become classes
    return "status-" + (str(status).replace(" ", "-") if status in _STATUSES else "other")


def _plain(value: object) -> str:
    return "" if value is None else str(value)


# ---------------------------------------------------------------- header


def _header(report: dict) -> str:
    best = report.get("best") or {}
    accepted = bool(report.get("accepted"))
    verdict = f"Accepted: {esc(best.get('id'))} replaces the baseline." if accepted else "Baseline kept."
    facts = (
        ("objective", report.get("objective")),
        ("target", report.get("target")),
        ("measured on", report.get("model")),
        ("region", report.get("region")),
        ("energy method", best.get("energy_method")),
    )
    context = " · ".join(f"{label} <b>{esc(value)}</b>" for label, value in facts if value is not None)
    return (
        '<header id="summary">\n<p class="eyebrow">promptslim report</p>\n'
        f"<h1>{esc(report.get('name', ''))}</h1>\n"
        f'<p class="verdict {"accepted" if accepted else "kept"}"><strong>{verdict}</strong> '
        f'{esc(report.get("note", ""))}</p>\n<p class="meta">{context}</p>\n'
        f"{_cards(report)}\n{_acceptance(report)}\n</header>"
    )


def _cards(report: dict) -> str:
    counted = measures(report.get("objective", "energy"))
    cards = [
        f'<div class="card{" primary" if key in counted else ""}"><span class="big">{esc(saved)}</span>'
        f'<span class="label">{esc(label)} saved</span>'
        f'<span class="detail">{esc(before)} \u2192 {esc(after)} per call</span></div>'
        for key, label, before, after, saved in savings_rows(report)
    ]
    return '<div class="cards">' + "".join(cards) + f'</div>\n<p class="muted">{esc(energy_basis(report))}</p>'


def _acceptance(report: dict) -> str:
    best = report.get("best") or {}
    outcome = (
        f"{esc(best.get('id'))} {esc(decision(best))}."
        if report.get("accepted")
        else "No variant both passed and beat the baseline."
    )
    budget = (
        ' <span class="warn">The search budget ran out before every variant was tried.</span>'
        if report.get("budget_exhausted")
        else ""
    )
    return (
        f'<p class="acceptance"><b>Acceptance:</b> {outcome} '
        f'<span class="muted">Rule: {esc(acceptance_rule(report))}.</span>{budget}</p>\n'
        f'<p class="acceptance">{esc(held_back(report))} Scores: baseline '
        f"{esc(headline_score(report.get('baseline') or {}))}, best {esc(headline_score(best))}.</p>"
    )


def _path_section(report: dict) -> str:
    head = ("Probe", "Phase", "Levels", "Verdict", "Cases", "Cheapest passing cap")
    return (
        '<section id="path">\n<h2>How the search went</h2>\n<p class="hint">Each probe, in order: bounds first '
        "(each axis alone, binary search), then the cheapest configurations inside them.</p>\n"
        f"{_plain_table(head, path_rows(report))}</section>"
    )


def _plain_table(head: Iterable[str], rows: Iterable[Iterable[object]], table_id: str = "") -> str:
    """A scrolling table of escaped text cells."""
    heads = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "\n".join("<tr>" + "".join(f"<td>{esc(value)}</td>" for value in row) + "</tr>" for row in rows)
    opening = f'<table id="{esc(table_id)}">' if table_id else "<table>"
    return (
        f'<div class="scroll">\n{opening}\n<thead><tr>{heads}</tr></thead>\n<tbody>\n{body}\n</tbody>\n'
        "</table>\n</div>\n"
    )


# ---------------------------------------------------------------- Pareto chart


def _chart_section(report: dict) -> str:
    measure = OBJECTIVES[report.get("objective", "energy")][1]
    legend = "".join(f'<span class="key {_status_class(s)}"><i></i>{s}</span>' for s in _STATUSES[:5])
    return (
        "<section>\n<h2>Cost and score of each variant</h2>\n"
        f'<p class="hint">Each dot is one variant: further left is cheaper in {esc(measure)}, higher'
        " scores better; the whiskers are the score's confidence interval. The line joins the Pareto"
        " frontier: no variant is both cheaper and better than a point on it.</p>\n"
        f'{_pareto_svg(report)}\n<p class="legend">{legend}'
        '<span class="key frontier"><i></i>frontier</span></p>\n</section>'
    )


def _pareto_svg(report: dict) -> str:
    objective = report.get("objective", "energy")
    points: list[Point] = [
        (v, cost_of(v, objective), v["score"])
        for v in report.get("variants") or []
        if cost_of(v, objective) is not None and v.get("score") is not None
    ]
    cis = [v["score_ci"] for v, _, _ in points if v.get("score_ci") and None not in v["score_ci"]]
    scores = [s for _, _, s in points] + [bound for ci in cis for bound in ci]
    scale = _Scale(
        _ticks(0.0, max((c for _, c, _ in points), default=1.0)),
        _ticks(min(scores, default=0.0), max(scores, default=1.0)),
    )
    parts = (
        _grid(scale, objective),
        _whiskers(points, scale),
        _frontier(report, points, scale),
        _dots(points, scale, objective),
        _labels(report, points, scale),
    )
    return (
        f'<svg id="pareto" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="Score against {esc(OBJECTIVES[objective][1])} for each variant">\n'
        + "\n".join(p for p in parts if p)
        + "\n</svg>"
    )


class _Scale:
    """Maps data to viewBox coordinates over the tick ranges."""

    def __init__(self, xticks: list[float], yticks: list[float]):
        self.xticks, self.yticks = xticks, yticks

    def x(self, value: float) -> float:
        lo, hi = self.xticks[0], self.xticks[-1]
        return _LEFT + (value - lo) / (hi - lo) * (_W - _LEFT - _RIGHT)

    def y(self, value: float) -> float:
        lo, hi = self.yticks[0], self.yticks[-1]
        return _H - _BOTTOM - (value - lo) / (hi - lo) * (_H - _TOP - _BOTTOM)


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1e-300):
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    start = math.floor(lo / step + 1e-9) * step
    n = math.ceil((hi - start) / step - 1e-9)
    return [round(start + k * step, 12) for k in range(max(n, 1) + 1)]


def _axis_unit(objective: str, top: float) -> tuple[float, str]:
    """(divisor, unit) for the x axis, one unit for all its ticks."""
    if objective == "energy":
        return unit_for(top, ENERGY_UNITS)
    if objective == "co2":
        return unit_for(top, CO2_UNITS)
    return 1.0, "USD" if objective == "cost" else "prompt + completion"


def _grid(scale: _Scale, objective: str) -> str:
    factor, unit = _axis_unit(objective, scale.xticks[-1])
    x0, x1, y0, y1 = _LEFT, _W - _RIGHT, _H - _BOTTOM, _TOP
    lines = [f'<rect class="plot" x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}"/>']
    for t in scale.xticks:
        x = scale.x(t)
        lines.append(
            f'<line class="grid" x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y0}"/>'
            f'<text class="tick" x="{x:.1f}" y="{y0 + 18}" text-anchor="middle">{sig(t / factor)}</text>'
        )
    for t in scale.yticks:
        y = scale.y(t)
        lines.append(
            f'<line class="grid" x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{x0 - 8}" y="{y + 4:.1f}" text-anchor="end">{sig(t)}</text>'
        )
    measure = OBJECTIVES[objective][1]
    xlabel = f"{measure[0].upper()}{measure[1:]} ({unit})"  # not capitalize(): it would make CO2 "Co2"
    lines += [
        f'<path class="axis" d="M{x0},{y1} V{y0} H{x1}"/>',
        f'<text class="axis-label" x="{(x0 + x1) / 2:.1f}" y="{_H - 12}" text-anchor="middle">{esc(xlabel)}</text>',
        f'<text class="axis-label" transform="translate(18 {(y0 + y1) / 2:.1f}) rotate(-90)" '
        'text-anchor="middle">Score</text>',
    ]
    return "\n".join(lines)


def _whiskers(points: list[Point], scale: _Scale) -> str:
    lines = []
    for v, c, _ in points:
        ci = v.get("score_ci")
        if ci and None not in ci:
            x = scale.x(c)
            lines.append(
                f'<line class="ci" x1="{x:.1f}" y1="{scale.y(ci[0]):.1f}" x2="{x:.1f}" y2="{scale.y(ci[1]):.1f}"/>'
            )
    return "\n".join(lines)


def _frontier(report: dict, points: list[Point], scale: _Scale) -> str:
    ids = {str(v.get("id")) for v in report.get("frontier") or []}
    on = sorted((c, s) for v, c, s in points if str(v.get("id")) in ids)
    if len(on) < 2:
        return ""
    coords = " ".join(f"{scale.x(c):.1f},{scale.y(s):.1f}" for c, s in on)
    return f'<polyline class="frontier" points="{coords}"/>'


def _dots(points: list[Point], scale: _Scale, objective: str) -> str:
    radius = {"winner": 8, "baseline": 7}
    on_top = {"baseline": 1, "winner": 2}  # drawn last, so nothing hides them
    dots = []
    for v, c, s in sorted(points, key=lambda p: on_top.get(p[0].get("status"), 0)):
        tip = (
            f"{v.get('id')} ({v.get('status')})\n{v.get('description', '')}\nscore {score_with_ci(v)}\n"
            f"{objective_cost(c, objective)} per call"
        )
        dots.append(
            f'<circle class="dot {_status_class(v.get("status"))}" cx="{scale.x(c):.1f}" '
            f'cy="{scale.y(s):.1f}" r="{radius.get(v.get("status"), 5)}"><title>{esc(tip)}</title></circle>'
        )
    return "\n".join(dots)


def _labels(report: dict, points: list[Point], scale: _Scale) -> str:
    best_id = str((report.get("best") or {}).get("id"))
    texts: list[str] = []
    placed: list[tuple[float, float, float]] = []  # (x, y, half width) of the labels so far
    for v, c, s in points:
        is_best, is_base = str(v.get("id")) == best_id, v.get("status") == "baseline"
        if not (is_best or is_base):
            continue
        name = "baseline (kept)" if is_best and is_base else "baseline" if is_base else f"best: {v.get('id')}"
        x, y, half = scale.x(c), scale.y(s) - 14, 3.5 * len(name)  # about 7 px a letter
        if any(abs(y - py) < 16 and abs(x - px) < half + ph + 6 for px, py, ph in placed):
            y += 38  # above would cover the other label: go below the dot
        placed.append((x, y, half))
        # centred on the dot unless that would cross the chart's edge
        anchor = "start" if x - half < _LEFT else "end" if x + half > _W - _RIGHT else "middle"
        texts.append(
            f'<text class="label {"best" if is_best else "base"}" x="{x:.1f}" y="{y:.1f}" '
            f'text-anchor="{anchor}">{esc(name)}</text>'
        )
    return "\n".join(texts)


# ---------------------------------------------------------------- prompt diff


def _diff_section(report: dict) -> str:
    base, best = report.get("baseline") or {}, report.get("best") or {}
    limits = ""
    if base.get("max_tokens") != best.get("max_tokens"):
        limits = f" max_tokens: {esc(base.get('max_tokens'))} \u2192 {esc(best.get('max_tokens'))}."
    pairs = _message_pairs(prompt_parts(base.get("prompt")), prompt_parts(best.get("prompt")))
    if all(before == after for before, after in pairs):
        body = '<p class="same">The best prompt is the baseline prompt: nothing changed.</p>'
    else:
        body = "\n".join(_message_diff(before, after) for before, after in pairs)
    return (
        "<section>\n<h2>What changed in the prompt</h2>\n"
        f'<p class="hint">From the baseline ({esc(base.get("id"))}) to the best variant ({esc(best.get("id"))}):'
        f' <del>removed</del> <ins>added</ins>.{limits}</p>\n<div id="diff">\n{body}\n</div>\n</section>'
    )


def _message_pairs(before: list[Part], after: list[Part]) -> list[tuple[Part | None, Part | None]]:
    """Line up chat messages: unchanged ones match, changed ones pair in order, the rest stand alone."""
    pairs: list[tuple[Part | None, Part | None]] = []
    for _, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        old, new = before[i1:i2], after[j1:j2]
        pairs += [
            (old[k] if k < len(old) else None, new[k] if k < len(new) else None) for k in range(max(len(old), len(new)))
        ]
    return pairs


def _message_diff(before: Part | None, after: Part | None) -> str:
    (role_before, text_before), (role_after, text_after) = before or (None, ""), after or (None, "")
    if before is None or after is None:
        role = f"{role_after or role_before or 'prompt'} ({'added' if before is None else 'removed'})"
    elif role_before != role_after:
        role = f"{role_before or 'prompt'} \u2192 {role_after or 'prompt'}"
    else:
        role = role_before  # None for a text prompt: no heading
    tags = {"delete": "del", "insert": "ins"}
    body = "".join(
        f"<{tags[op.op]}>{esc(op.text)}</{tags[op.op]}>" if op.op in tags else esc(op.text)
        for op in word_diff(text_before, text_after)
    )
    heading = f'<div class="role">{esc(role)}</div>' if role else ""
    return f'<div class="message">{heading}<pre>{body}</pre></div>'


# ---------------------------------------------------------------- variants, cases, spend


def _variants_section(report: dict) -> str:
    objective = report.get("objective", "energy")
    counted = measures(objective)
    columns = (
        ("Variant", ""),
        ("Status and test", ""),
        ("Change", ""),
        ("Score", ""),
        ("Prompt tokens", "prompt_tokens"),
        ("Completion tokens", "completion_tokens"),
        ("Max tokens", ""),
        ("Energy", "energy_j"),
        ("Energy measured", ""),
        ("Cost", "cost_usd"),
        ("CO\u2082", "co2_g"),
        ("Cases", ""),
    )
    head = "".join(f'<th class="{"objective" if key in counted else ""}">{esc(name)}</th>' for name, key in columns)
    rows = "\n".join(_variant_row(v, counted) for v in by_cost(report.get("variants") or [], objective))
    return (
        '<section>\n<h2>All variants, cheapest first</h2>\n<div class="scroll">\n'
        f'<table id="variants">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n'
        "</div>\n</section>"
    )


def _variant_row(v: dict, counted: set[str]) -> str:
    def num(key: str, text: str) -> str:
        return f'<td class="num{" objective" if key in counted else ""}">{esc(text)}</td>'

    return (
        f'<tr class="{_status_class(v.get("status"))}"><td>{esc(v.get("id"))}</td>'
        f'<td class="status"><span class="badge">{esc(v.get("status"))}</span><small>{esc(decision(v))}</small></td>'
        f'<td class="change">{esc(v.get("description", ""))}'
        f"<details><summary>prompt</summary>{_prompt_html(v.get('prompt'))}</details></td>"
        f'<td class="num">{esc(score(v.get("score")))}<small>{esc(score_ci(v))}</small></td>'
        + num("prompt_tokens", tokens(v.get("prompt_tokens")))
        + num("completion_tokens", tokens(v.get("completion_tokens")))
        + num("", _plain(v.get("max_tokens")))
        + num("energy_j", energy(per_call(v, "energy_j")))
        + num("", energy(v.get("energy_j")))
        + num("cost_usd", usd(v.get("cost_usd")))
        + num("co2_g", co2(per_call(v, "co2_g")))
        + num("", _plain(v.get("calls")))
        + "</tr>"
    )


def _prompt_html(prompt: str | list[dict] | None) -> str:
    return "".join(
        (f'<div class="role">{esc(role)}</div>' if role is not None else "") + f"<pre>{esc(text)}</pre>"
        for role, text in prompt_parts(prompt)
    )


def _cases_section(report: dict) -> str:
    cases = report.get("cases") or []
    if not cases:
        body = '<p class="hint">The report holds no example cases.</p>'
    else:
        rows = "\n".join(_case_row(case) for case in cases)
        body = (
            '<div class="scroll">\n<table class="cases">\n<thead><tr><th>Case</th><th>Input</th>'
            "<th>Expected</th><th>Baseline output</th><th>Best output</th></tr></thead>\n"
            f"<tbody>\n{rows}\n</tbody>\n</table>\n</div>"
        )
    return f'<section id="cases">\n<h2>Example cases</h2>\n{body}\n</section>'


def _case_row(case: dict) -> str:
    inputs = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in (case.get("vars") or {}).items())
    outputs = (case.get("expected"), case.get("baseline_output"), case.get("best_output"))
    return (
        f"<tr><td>{esc(case.get('id', ''))}</td><td><dl>{inputs}</dl></td>"
        + "".join(f"<td><pre>{esc(_plain(text))}</pre></td>" for text in outputs)
        + "</tr>"
    )


def _spend_section(report: dict) -> str:
    spend = report.get("spend") or {}
    facts = (
        ("Model calls", f"{spend.get('model_calls', 0):,}"),
        ("Answered from cache", f"{spend.get('cached_calls', 0):,}"),
        ("Trying every variant on every case", f"{spend.get('exhaustive_calls', 0):,} calls"),
        ("Energy used", energy(spend.get("energy_j"))),
        ("Wall time", f"{spend.get('wall_s', 0):,.1f} s"),
    )
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    return (
        '<section id="spend">\n<h2>What the optimisation cost</h2>\n'
        f'<p class="breakeven">{esc(breakeven(report))}</p>\n<dl class="facts">{items}</dl>\n'
        f"{_endpoints_table(report)}</section>"
    )


def _endpoints_table(report: dict) -> str:
    """Calls and throughput on each endpoint of a pool; nothing for one backend."""
    rows = endpoint_rows(report)
    head = ("Endpoint", "Calls", "Failed", "Calls/s", "Output tokens/s", "State")
    return _plain_table(head, rows, "endpoints") if rows else ""


_CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; --bg: #f6f7f9;
  --win: #15803d; --base: #334155; --pass: #2563eb; --drop: #7b8794; --fail: #dc2626; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
section, header { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 24px; margin-bottom: 20px; }
h1 { margin: 0 0 8px; font-size: 1.7rem; overflow-wrap: anywhere; }
h2 { margin: 0 0 8px; font-size: 1.2rem; }
.eyebrow { margin: 0; color: var(--muted); text-transform: uppercase; letter-spacing: .08em; font-size: .75rem; }
.verdict { margin: 0 0 6px; font-size: 1.05rem; }
.verdict.accepted strong { color: var(--win); }
.verdict.kept strong { color: #b45309; }
.meta, .hint, .muted { color: var(--muted); }
.meta { margin: 0 0 16px; font-size: .9rem; }
.hint { margin: 0 0 12px; font-size: .9rem; }
.warn { color: #b45309; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-bottom: 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  display: flex; flex-direction: column; }
.card.primary { border-color: var(--win); background: #f0fdf4; }
.card .big { font-size: 1.7rem; font-weight: 700; line-height: 1.2; }
.card .label { font-weight: 600; }
.card .detail { color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; }
.acceptance { margin: 0; font-size: .9rem; }
svg#pareto { display: block; width: 100%; height: auto; max-width: 900px; margin: 0 auto;
  font: 12px system-ui, sans-serif; }
svg .plot { fill: #fbfcfd; }
svg .grid { stroke: #e6e9ee; }
svg .axis { fill: none; stroke: #8a94a3; }
svg .tick { fill: var(--muted); }
svg .axis-label { fill: var(--ink); font-size: 13px; font-weight: 600; }
svg .ci { stroke: #b8c0cc; stroke-width: 1.5; }
svg .frontier { fill: none; stroke: var(--win); stroke-width: 2; stroke-dasharray: 6 4; opacity: .7; }
svg .dot { stroke: #fff; stroke-width: 1.5; }
svg .label { font-size: 13px; font-weight: 700; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
svg .label.best { fill: var(--win); }
svg .label.base { fill: var(--base); }
.status-winner { --c: var(--win); } .status-baseline { --c: var(--base); } .status-passed { --c: var(--pass); }
.status-dropped { --c: var(--drop); } .status-failed { --c: var(--fail); }
.status-not-run, .status-other { --c: #cbd2d9; }
.status-not-run .badge, .status-other .badge { color: var(--ink); }
svg .dot { fill: var(--c); }
svg .dot.status-winner { stroke: #064e3b; stroke-width: 2.5; }
svg .dot.status-baseline { fill: #fff; stroke: var(--base); stroke-width: 3; }
svg .dot.status-failed { fill: #fff; stroke: var(--fail); stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; justify-content: center; margin: 8px 0 0;
  font-size: .85rem; color: var(--muted); }
.key i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; background: var(--c);
  margin-right: 6px; vertical-align: -1px; }
.key.status-baseline i { background: #fff; border: 3px solid var(--base); }
.key.status-failed i { background: #fff; border: 2px solid var(--fail); }
.key.frontier i { width: 22px; height: 0; border-radius: 0; border-top: 2px dashed var(--win); vertical-align: 3px; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere;
  font: 13px/1.55 ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
#diff .message { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin-bottom: 10px;
  background: #fcfcfd; }
.role { font-size: .75rem; font-weight: 700; text-transform: uppercase; letter-spacing: .06em;
  color: var(--muted); margin-bottom: 4px; }
del { background: #fde2e2; color: #9b1c1c; text-decoration: line-through; text-decoration-color: #e0a0a0; }
ins { background: #d8f5e0; color: #14532d; text-decoration: none; }
.hint del, .hint ins { padding: 0 4px; border-radius: 3px; }
.same { margin: 0; color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { padding: 7px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f1f3f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num small { display: block; color: var(--muted); font-size: .75rem; }
th.objective, td.objective { background: #f0fdf4; }
#variants td.change { min-width: 200px; overflow-wrap: anywhere; }
#variants td.status { min-width: 120px; }
#variants td.status small { display: block; color: var(--muted); font-size: .75rem; margin-top: 3px; }
#variants details { margin-top: 4px; }
#variants summary { cursor: pointer; color: var(--pass); font-size: .8rem; }
#variants details pre { max-height: 320px; overflow: auto; background: var(--bg); padding: 8px;
  border-radius: 6px; margin-top: 4px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: .75rem; font-weight: 600;
  color: #fff; background: var(--c); white-space: nowrap; }
tr.status-winner td { background: #f0fdf4; }
.cases td { min-width: 140px; }
.cases dl { margin: 0; }
.cases dt { font-weight: 600; font-size: .75rem; color: var(--muted); }
.cases dd { margin: 0 0 4px; overflow-wrap: anywhere; }
.breakeven { font-size: 1.05rem; margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 10px; margin: 0; }
.facts div { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.facts dt { color: var(--muted); font-size: .8rem; }
.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
@media (max-width: 640px) { main { padding: 12px 8px; } section, header { padding: 14px; } }
"""
