import copy
import html
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from promptslim.report import to_html, to_json, to_markdown

XSS = "<script>alert(1)</script>"
TEXTAREA = "</textarea>"
IMG = '"><img src=x onerror=alert(1)>'
PWN_SCRIPT = "<script>document.title='PWNED'</script>"
PWN_IMG = "<img src=x onerror=\"document.title='PWNED'\">"
HOSTILE = (XSS, TEXTAREA, IMG, PWN_SCRIPT, PWN_IMG)

SHOTS = [
    ("The battery died after two days.", "negative"),
    (f"Great value {IMG} would buy again.", "positive"),
    ("It arrived on time and works as described.", "positive"),
    ("Broke the first time I used it.", "negative"),
    ("Does the job, nothing special.", "neutral"),
    (f"Support never answered. {XSS}", "negative"),
    ("Lovely colour, fits well.", "positive"),
    ("Average quality for the price.", "neutral"),
]
RULES = (
    "You are a careful assistant that classifies product reviews. Please read the review below very "
    "carefully and think about the overall sentiment of the writer.\n"
    "Answer with exactly one word: positive, negative or neutral. Do not explain your answer. "
    f"Never output {TEXTAREA}.\n\n"
)
SHORT_RULES = "Classify the review. Answer with one word: positive, negative or neutral, without ``` fences.\n\n"
GRAMS_PER_JOULE = 380 / 3.6e6  # 380 g CO2 per kWh


def shots(n: int) -> str:
    return "".join(f"Review: {text}\nSentiment: {label}\n\n" for text, label in SHOTS[:n])


def variant(
    vid,
    description,
    prompt,
    status,
    score,
    prompt_tokens,
    completion_tokens,
    energy_j,
    *,
    max_tokens=64,
    passed=True,
    diff=-0.01,
):
    cost = None if completion_tokens is None else prompt_tokens * 2.5e-6 + completion_tokens * 1e-5
    ran = score is not None
    return {
        "id": vid,
        "description": description,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "score": score,
        "score_ci": [score - 0.08, min(1.0, score + 0.06)] if ran else None,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "energy_j": energy_j,
        "energy_method": "cpu-estimate",
        "co2_g": None if energy_j is None else energy_j * GRAMS_PER_JOULE,
        "cost_usd": cost,
        "calls": 60 if ran else 0,
        "status": status,
        "decision": None
        if status in ("baseline", "not run")
        else {"passed": passed, "diff": diff, "lower": diff - 0.03, "p_value": 0.01 if passed else 0.4},
    }


def pct(before: float, after: float) -> float:
    return round(100 * (before - after) / before, 1)


@pytest.fixture
def report() -> dict:
    template = "Review: {{review}}\nSentiment:"
    chat = [{"role": "system", "content": SHORT_RULES.strip()}, {"role": "user", "content": f"{shots(2)}{template}"}]
    variants = [
        variant("v0", "baseline", RULES + shots(8) + template, "baseline", 0.87, 212.5, 3.1, 1.06),
        variant(
            "v1", "rules: removed filler", SHORT_RULES + shots(8) + template, "passed", 0.87, 170.0, 3.1, 0.93, diff=0.0
        ),
        variant("v2", "shots: kept 4 of 8 examples", RULES + shots(4) + template, "passed", 0.86, 140.0, 3.1, 0.80),
        variant(
            "v3",
            "rules: removed filler; shots: kept 4 of 8 examples; caps: max_tokens 8",
            SHORT_RULES + shots(4) + template,
            "winner",
            0.86,
            125.0,
            1.0,
            0.51,
            max_tokens=8,
        ),
        variant(
            "v4",
            f"shots: kept 1 of 8 examples {PWN_IMG} | a|b",
            SHORT_RULES + shots(1) + template,
            "dropped",
            0.78,
            98.0,
            1.0,
            0.40,
            max_tokens=8,
            passed=False,
            diff=-0.09,
        ),
        variant(
            "v5",
            f"shots: none {PWN_SCRIPT}",
            SHORT_RULES + template,
            "failed",
            0.60,
            40.0,
            1.0,
            0.35,
            max_tokens=8,
            passed=False,
            diff=-0.27,
        ),
        variant("v6", "format: chat messages", chat, "passed", 0.85, 90.0, 1.0, 0.95, max_tokens=8, diff=-0.02),
        variant(
            "v7",
            "shots: kept 2 of 8 examples; caps: max_tokens 4",
            SHORT_RULES + shots(2) + template,
            "not run",
            None,
            70.0,
            None,
            None,
            max_tokens=4,
        ),
    ]
    base, best = variants[0], variants[3]
    spend_j = 210.4
    return {
        "name": f"review-sentiment {PWN_SCRIPT}",
        "objective": "energy",
        "target": "gpt-4o",
        "model": "SmolLM2-135M-Instruct",
        "region": "DEU",
        "accepted": True,
        "note": "v3 keeps the score within 0.05 of the baseline and halves the energy per call.",
        "budget_exhausted": True,
        "acceptance": {"max_drop": 0.05, "min_score": 0.0, "confidence": 0.95, "method": "mcnemar-exact"},
        "baseline": base,
        "best": best,
        "frontier": [variants[i] for i in (5, 4, 3, 1)],
        "variants": variants,
        "spend": {"model_calls": 412, "cached_calls": 30, "energy_j": spend_j, "exhaustive_calls": 900, "wall_s": 95.2},
        "savings": {
            "prompt_tokens_pct": pct(base["prompt_tokens"], best["prompt_tokens"]),
            "completion_tokens_pct": pct(base["completion_tokens"], best["completion_tokens"]),
            "energy_pct": pct(base["energy_j"], best["energy_j"]),
            "cost_pct": pct(base["cost_usd"], best["cost_usd"]),
            "co2_pct": pct(base["co2_g"], best["co2_g"]),
            "breakeven_calls": round(spend_j / (base["energy_j"] - best["energy_j"]), 1),
        },
        "cases": [
            {
                "id": "case-1",
                "vars": {"review": "Stopped working after a week."},
                "expected": "negative",
                "baseline_output": "negative",
                "best_output": "negative",
            },
            {
                "id": "case-2",
                "vars": {"review": f"Fine {TEXTAREA}{PWN_SCRIPT} {{{{var}}}}"},
                "expected": "neutral",
                "baseline_output": "neutral",
                "best_output": f"positive {PWN_IMG}",
            },
            {
                "id": "case-3",
                "vars": {"review": "Absolutely love it!\nFive stars."},
                "expected": "positive",
                "baseline_output": f"positive {XSS}",
                "best_output": "positive",
            },
        ],
    }


@pytest.fixture
def chat_report(report) -> dict:
    """The best variant is a chat prompt; the baseline is one too."""
    r = copy.deepcopy(report)
    r["baseline"]["prompt"] = [
        {"role": "system", "content": RULES.strip()},
        {"role": "user", "content": shots(8) + "Review: {{review}}\nSentiment:"},
    ]
    r["best"] = r["variants"][6]
    return r


@pytest.fixture
def kept_report(report) -> dict:
    """No variant passed: the best is the baseline, and nothing is saved."""
    r = copy.deepcopy(report)
    r.update(accepted=False, best=r["baseline"], note="No variant passed; keeping the baseline.")
    r["variants"][3]["status"] = "dropped"
    r["savings"] = {k: 0.0 for k in r["savings"]} | {"breakeven_calls": None}
    return r


class Dom(HTMLParser):
    """Elements with their ancestors' ids, and the page's title (not the chart's tooltips)."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "wbr", "area", "base", "col", "embed", "source", "track"}

    def __init__(self, page: str):
        super().__init__()
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.stack: list[tuple[str, str]] = []
        self.title = ""
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, [i for _, i in self.stack if i]))
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("id") or ""))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if [tag for tag, _ in self.stack[-2:]] == ["head", "title"]:
            self.title += data

    def inside(self, container: str, tag: str) -> list[dict]:
        return [attrs for t, attrs, ids in self.elements if t == tag and container in ids]

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs, _ in self.elements if attrs.get("id")}


def plotted(report: dict) -> int:
    return sum(v["score"] is not None and v["energy_j"] is not None for v in report["variants"])


# ---------------------------------------------------------------- JSON and Markdown


def test_json_round_trips(report):
    assert json.loads(to_json(report)) == report


def outside_fences(markdown: str) -> str:
    return re.sub(r"^(`{3,})text\n.*?\n\1$", "", markdown, flags=re.S | re.M)


def test_markdown_has_headline_savings_acceptance_variants_and_best_prompt(report):
    md = to_markdown(report)
    assert md.startswith("## promptslim: review-sentiment")
    assert "**Accepted: v3 replaces the baseline.**" in md
    assert "| Energy / call | 1.06 J | 510 mJ | 51.9% |" in md
    assert "| Prompt tokens / call | 212.5 | 125.0 | 41.2% |" in md
    assert "**Acceptance:** v3 passed" in md and "mcnemar-exact" in md
    assert "budget ran out" in md
    assert "pays back after 382 calls" in md
    assert "All 8 variants" in md
    # the best prompt comes back verbatim from a fence longer than its own ``` run
    fence = re.search(r"^(`{4,})text\n(.*?)\n\1$", md, flags=re.S | re.M)
    assert fence and fence.group(2) == report["best"]["prompt"]


def test_markdown_tables_survive_hostile_text(report):
    md = to_markdown(report)
    rest = outside_fences(md)
    for bad in ("<script", "<img", TEXTAREA):
        assert bad not in rest
    for table in re.findall(r"(?:^\|.*\|$\n?)+", rest, flags=re.M):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.strip().splitlines()}
        assert len(widths) == 1, table
    assert "a\\|b" in rest  # the description's pipe is escaped, not a cell border


def test_markdown_chat_prompt_is_fenced_per_message(chat_report):
    md = to_markdown(chat_report)
    assert "*system*:" in md and "*user*:" in md
    assert md.count("```text\n") == 2


# ---------------------------------------------------------------- HTML


def test_html_escapes_every_hostile_string(report):
    page = to_html(report)
    for bad in HOSTILE:
        assert bad not in page
        assert html.escape(bad, quote=True) in page
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "{{review}}" in page and "{{var}}" in page
    assert "http://" not in page and "https://" not in page  # nothing is fetched


def test_html_has_chart_diff_table_and_spend(report):
    page = to_html(report)
    dom = Dom(page)
    assert {"pareto", "diff", "variants", "spend", "summary"} <= dom.ids()
    assert len(dom.inside("pareto", "circle")) == plotted(report) == 7
    assert len(dom.inside("pareto", "polyline")) == 1
    assert dom.inside("diff", "del") and dom.inside("diff", "ins")
    assert len(dom.inside("variants", "tr")) == len(report["variants"]) + 1
    assert ">best: v3</text>" in page and ">baseline</text>" in page
    assert "51.9%" in page and "41.2%" in page
    assert "The optimisation used 210 J; at 550 mJ saved per call it pays back after 382 calls." in page
    # cheapest first: v5 (0.35 J) heads the table, the unmeasured v7 closes it
    rows = re.findall(r'<tr class="status-[\w-]+"><td>(v\d)</td>', page)
    assert rows == ["v5", "v4", "v3", "v2", "v1", "v6", "v0", "v7"]


@pytest.mark.parametrize(
    "objective, axis",
    [
        ("tokens", "Tokens per call (prompt + completion)"),
        ("energy", "Energy per call (J)"),
        ("cost", "Cost per call (USD)"),
        ("co2", "CO\u2082 per call (\u00b5g)"),
    ],
)
def test_html_chart_follows_the_objective(report, objective, axis):
    report["objective"] = objective
    page = to_html(report)
    assert f">{axis}</text>" in page
    assert len(Dom(page).inside("pareto", "circle")) == plotted(report)


def test_html_and_markdown_survive_a_sparse_report(report):
    for key in ("frontier", "cases", "spend", "savings"):
        del report[key]
    for v in report["variants"]:
        v.update(cost_usd=None, score_ci=None, decision=None)
    report["objective"] = "cost"
    page = to_html(report)
    assert len(Dom(page).inside("pareto", "circle")) == 0  # nothing has a cost to plot
    assert "no example cases" in page and "does not pay back" in page
    assert "| Cost / call | n/a | n/a | n/a |" in to_markdown(report)


def test_breakeven_counts_making_and_evaluating_variants(report):
    # cached calls cost nothing new, but the break-even point counts them at their first cost
    report["spend"].update(energy_j=150.0, generation_energy_j=10.4, evaluation_energy_j=200.0)
    assert "The optimisation used 210 J; at 550 mJ saved per call" in to_html(report)


def test_html_diffs_chat_prompts_message_by_message(chat_report):
    page = to_html(chat_report)
    diff = page[page.index('<div id="diff">') : page.index("</section>", page.index('<div id="diff">'))]
    assert diff.count('<div class="message">') == 2
    assert '<div class="role">system</div>' in diff and '<div class="role">user</div>' in diff
    assert "<del>" in diff and "<ins>" in diff


def test_html_when_the_baseline_is_kept(kept_report):
    page = to_html(kept_report)
    assert "Baseline kept." in page
    assert "nothing changed" in page
    assert "does not pay back" in page
    assert ">baseline (kept)</text>" in page


# ---------------------------------------------------------------- in a real browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail(
            "this test needs a headless Chromium: install the `chromium` package "
            "(apt-get install -y chromium) so that `chromium` is on PATH"
        )
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp_path)  # a fresh profile per run
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_html_renders_in_chromium_without_running_planted_scripts(report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(to_html(report), encoding="utf-8")
    proc = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom(proc.stdout)
    assert dom.title == f"promptslim report: {report['name']}"  # the planted script is text, never run
    assert not [tag for tag, _, _ in dom.elements if tag in ("img", "script")]
    assert len(dom.inside("pareto", "circle")) == plotted(report)
    assert dom.inside("diff", "del") and dom.inside("diff", "ins")

    shot = tmp_path / "report.png"
    proc = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
