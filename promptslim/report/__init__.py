"""Render an optimisation report (a plain, JSON-able dict) as JSON, Markdown or one HTML file.

The helpers here format numbers the same way for every renderer.
"""

from __future__ import annotations

import math

from .. import serialize
from ..constants import OBJECTIVES

ENERGY_UNITS = ((1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "\u00b5J"))
CO2_UNITS = ((1e3, "kg"), (1.0, "g"), (1e-3, "mg"), (1e-6, "\u00b5g"))
KWH_UNITS = ((1e3, "MWh"), (1.0, "kWh"), (1e-3, "Wh"), (1e-6, "mWh"))


def to_json(report: dict) -> str:
    return serialize.dumps(report)


def to_markdown(report: dict) -> str:
    """Headline, savings, acceptance, variants and the best prompt: a pull-request comment."""
    from .markdown import render  # imported late: the renderers import this module's helpers

    return render(report)


def to_html(report: dict) -> str:
    """One self-contained page: savings, Pareto chart, prompt diff, variants, cases, spend."""
    from .html import render

    return render(report)


def cost_of(variant: dict, objective: str) -> float | None:
    """What the objective minimises, per call; None when the variant lacks the figure."""
    if objective == "tokens":
        parts = (variant.get("prompt_tokens"), variant.get("completion_tokens"))
        return None if None in parts else parts[0] + parts[1]
    value = per_call(variant, OBJECTIVES[objective][0])
    return None if value is None or not math.isfinite(value) else value


def by_cost(variants: list[dict], objective: str) -> list[dict]:
    """Cheapest first; variants without a cost go last."""
    return sorted(variants, key=lambda v: (cost_of(v, objective) is None, cost_of(v, objective) or 0.0))


def unit_for(value: float, units: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    """The largest unit that keeps `value` at 1 or more (the smallest for tiny values)."""
    return next((u for u in units if abs(value) >= u[0]), units[-1])


def sig(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant digits, never in exponent notation."""
    if value == 0:
        return "0"
    places = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def scaled(value: float | None, units: tuple[tuple[float, str], ...]) -> str:
    if value is None:
        return "n/a"
    factor, name = unit_for(value, units)
    return f"{sig(value / factor)} {name}"


def energy(joules: float | None) -> str:
    return scaled(joules, ENERGY_UNITS)


def co2(grams: float | None) -> str:
    return scaled(grams, CO2_UNITS)


def usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"-${sig(-value)}" if value < 0 else f"${sig(value)}"


def kwh(value: float | None) -> str:
    return scaled(value, KWH_UNITS)


def tokens(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def count(value: int | None) -> str:
    """A whole number with thousands separators."""
    return "n/a" if value is None else f"{value:,}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def score_ci(variant: dict) -> str:
    """The score's confidence interval, "" when there is none."""
    ci = variant.get("score_ci")
    return f"[{score(ci[0])}, {score(ci[1])}]" if ci and None not in ci else ""


def score_with_ci(variant: dict) -> str:
    return f"{score(variant.get('score'))} {score_ci(variant)}".strip()


def headline_score(variant: dict) -> str:
    """The score on the held-back cases where the variant ran there, else on the search cases."""
    if variant.get("confirmed_score") is None:
        return score_with_ci(variant)
    ci = variant.get("confirmed_score_ci")
    interval = f" [{score(ci[0])}, {score(ci[1])}]" if ci and None not in ci else ""
    return f"{score(variant['confirmed_score'])}{interval} on {variant.get('confirmed_calls', 0)} held-back cases"


def held_back(report: dict) -> str:
    """How the cases were split and what the held-back cases confirmed, in a sentence or two."""
    held = report.get("holdout") or {}
    if not held:
        return ""
    text = f"Searched on {held.get('search_cases', 0)} cases; {held.get('note', '')}."
    for c in held.get("confirmations") or []:
        verdict = "confirmed" if c.get("passed") else "not confirmed"
        text += f" {c.get('id')} {verdict} on them ({decision(c)})."
    return text


def path_rows(report: dict) -> list[tuple[str, str, str, str, str, str]]:
    """(probe, phase, levels, verdict, cases run, cheapest passing cap) for each probe, in order."""
    rows = []
    for p in report.get("path") or []:
        verdict = "passed" if p.get("passed") else str(p.get("status", ""))
        rows.append(
            (
                str(p.get("id", "")),
                str(p.get("phase", "")),
                "; ".join(map(str, p.get("levels") or [])),
                f"{verdict} ({decision(p)})" if p.get("decision") else verdict,
                str(p.get("cases", 0)),
                str(p.get("best_cap") or ""),
            )
        )
    return rows


def endpoint_rows(report: dict) -> list[tuple[str, str, str, str, str, str]]:
    """(endpoint, calls answered, calls failed, calls/s, output tokens/s, state) for each endpoint
    of a pool; none for a run on one backend."""
    rows = []
    for e in report.get("endpoints") or []:
        dropped = e.get("dropped_after_s")
        state = "live" if dropped is None else f"dropped after {dropped:,.1f} s: {e.get('error') or ''}"
        rows.append(
            (
                str(e.get("url", "")),
                count(e.get("calls")),
                count(e.get("failed")),
                "n/a" if e.get("calls_per_s") is None else sig(e["calls_per_s"]),
                "n/a" if e.get("tokens_per_s") is None else sig(e["tokens_per_s"]),
                state,
            )
        )
    return rows


def objective_cost(value: float | None, objective: str) -> str:
    """A cost under the objective, with its unit."""
    if objective == "tokens":
        return "n/a" if value is None else f"{tokens(value)} tokens"
    return {"energy": energy, "cost": usd, "co2": co2}[objective](value)


def prompt_parts(prompt: str | list[dict] | None) -> list[tuple[str | None, str]]:
    """(role, text) pieces of a prompt; a text prompt is one piece without a role."""
    if prompt is None:
        return []
    if isinstance(prompt, str):
        return [(None, prompt)]
    return [(str(m.get("role", "")), str(m.get("content", ""))) for m in prompt]


def decision(variant: dict) -> str:
    """The acceptance test's verdict on one variant, in a few words."""
    d = variant.get("decision")
    if not d:
        return ""
    parts = [
        f"\u0394 {d['diff']:+.3f}" if d.get("diff") is not None else None,
        f"lower {d['lower']:+.3f}" if d.get("lower") is not None else None,
        f"p = {sig(d['p_value'], 2)}" if d.get("p_value") is not None else None,
        d.get("reason"),
    ]
    return ("passed" if d.get("passed") else "failed") + "".join(f", {p}" for p in parts if p)


def acceptance_rule(report: dict) -> str:
    a = report.get("acceptance") or {}
    confidence = a.get("confidence")
    level = f" at {confidence * 100:g}% confidence" if confidence is not None else ""
    screening = a.get("screening_confidence")
    screened = (
        f"; the search screened at {screening * 100:g}%" if screening is not None and screening != confidence else ""
    )
    return (
        f"a variant may lose at most {a.get('max_drop', 'n/a')} score against the baseline{level} "
        f"({a.get('method', 'n/a')}) and must score at least {a.get('min_score', 'n/a')}{screened}"
    )


# (label, variant key, formatter, savings key)
_SAVINGS = (
    ("Prompt tokens", "prompt_tokens", tokens, "prompt_tokens_pct"),
    ("Completion tokens", "completion_tokens", tokens, "completion_tokens_pct"),
    ("Energy", "energy_j", energy, "energy_pct"),
    ("Cost", "cost_usd", usd, "cost_pct"),
    ("CO\u2082", "co2_g", co2, "co2_pct"),
)


def savings_rows(report: dict) -> list[tuple[str, str, str, str, str]]:
    """(variant key, what, baseline per call, best per call, saved) for each measure."""
    base, best, saved = report.get("baseline") or {}, report.get("best") or {}, report.get("savings") or {}
    return [
        (key, label, fmt(per_call(base, key)), fmt(per_call(best, key)), pct(saved.get(pct_key)))
        for label, key, fmt, pct_key in _SAVINGS
    ]


def per_call(variant: dict, key: str) -> float | None:
    """A variant's figure as the run compared it: energy and CO2 from the run's fit when it had one."""
    fitted, measured = variant.get("energy_fit_j"), variant.get("energy_j")
    if fitted is None or key not in ("energy_j", "co2_g"):
        return variant.get(key)
    if key == "energy_j":
        return fitted
    co2 = variant.get("co2_g")  # CO2 is energy times the grid's intensity
    if measured is None:
        return co2  # never measured (answers derived under a cap): already from the fit
    return co2 * fitted / measured if co2 is not None and measured else None


def energy_basis(report: dict) -> str:
    """How the energy and CO2 savings were obtained, in one sentence."""
    fit = report.get("energy_fit")
    method = (report.get("baseline") or {}).get("energy_method", "n/a")
    if (report.get("savings") or {}).get("energy_basis") != "fit" or not fit:
        return f"Energy and CO\u2082 per call are the means of each variant's measured calls ({method})."
    return (
        f"Energy and CO\u2082 per call come from a fit over the run's {fit['calls']:,} cold calls ({method}), in the "
        f"model's own tokens: J = {fit['j_per_input_token']:.3g}\u00b7prompt tokens + "
        f"{fit['j_per_output_token']:.3g}\u00b7output tokens "
        f"+ {fit['j_per_call']:.3g} (R\u00b2 {fit['r2']:.2f}). It evens out the drift between variants measured "
        f"minutes apart; the variant table also shows each one's own measured mean."
    )


def measures(objective: str) -> set[str]:
    """The variant keys an objective counts."""
    key = OBJECTIVES[objective][0]
    return {"prompt_tokens", "completion_tokens"} if key == "tokens" else {key}


def breakeven(report: dict) -> str:
    """The optimisation's own energy against what each call saves."""
    spent = _optimisation_energy(report.get("spend") or {})
    saved = _saved_energy(report)
    calls = (report.get("savings") or {}).get("breakeven_calls")
    if calls is None or saved is None or saved <= 0:
        return f"The optimisation used {energy(spent)}; no energy is saved per call, so it does not pay back."
    return (
        f"The optimisation used {energy(spent)}; at {energy(saved)} saved per call "
        f"it pays back after {calls:,.0f} calls."
    )


def _optimisation_energy(spend: dict) -> float | None:
    # when the spend splits making and evaluating variants (cached calls at their first cost),
    # that total is what the break-even point divides by
    parts = [spend[key] for key in ("generation_energy_j", "evaluation_energy_j") if spend.get(key) is not None]
    return sum(parts) if parts else spend.get("energy_j")


def _saved_energy(report: dict) -> float | None:
    before = per_call(report.get("baseline") or {}, "energy_j")
    after = per_call(report.get("best") or {}, "energy_j")
    return None if before is None or after is None else before - after
