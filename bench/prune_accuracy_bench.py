"""Accuracy of LM-guided pruning on a 12-shot news-topic prompt, scored by the embedded model.

    python bench/prune_accuracy_bench.py [--cases 200] [--rates 0.2,0.3,...]

The prompt (~380 gpt-4o tokens) is not one of the repository's prompts; the unseen cases are
built with a fixed seed from hand-written sentence parts, so none repeats a demonstration. Each
variant (the original, then `compress(method="prune", rate=r)`) answers every case at
temperature 0 on one llama instance, reusing the KV prefix the cases share. Targets: within 3
points of the original at rate 0.3, no collapse at any rate from 0.2 to 0.8, kept share ~ rate.
"""

from __future__ import annotations

import argparse
import random
import time

PROMPT = """Hi there! We run a small news website and we would really appreciate your help with sorting \
our incoming headlines. Please read each headline below carefully and then decide which section of the \
website it belongs in. There are four sections: sports, business, science and health. Sports is for games, \
matches, athletes and teams; business is for companies, markets, jobs and prices; science is for research, \
space, animals, physics and discoveries; health is for doctors, hospitals, illness, diet and medicine. \
Please answer with the name of the section only, in lower case, and do not add any explanation at all.

Headline: Local striker scores twice as the city club wins the cup final
Section: sports

Headline: Supermarket chain reports record profits and plans forty new stores
Section: business

Headline: Astronomers spot a frozen planet orbiting a distant red dwarf star
Section: science

Headline: Doctors warn that the flu season is arriving earlier than usual
Section: health

Headline: Veteran goalkeeper signs a two-year deal with the league champions
Section: sports

Headline: Oil prices fall as shipping companies cut their fuel orders
Section: business

Headline: Marine biologists find a new species of glowing deep-sea squid
Section: science

Headline: A daily walk lowers blood pressure in older adults, study says
Section: health

Headline: Tennis star retires after losing in the third round of the open
Section: sports

Headline: Carmaker cuts two thousand jobs after sales drop for a third year
Section: business

Headline: Physicists measure the mass of the neutrino more precisely than ever
Section: science

Headline: Hospital opens a new ward for children with asthma and allergies
Section: health

Headline: {{headline}}
Section:"""

# hand-written parts: each case is a subject and an event of one section, with an optional tail
PARTS = {
    "sports": (
        [
            "The national rugby team",
            "A teenage sprinter",
            "The home basketball side",
            "An Olympic swimmer",
            "The cricket captain",
            "A cycling team",
            "The county hockey club",
            "A former boxing champion",
            "The women's football team",
            "A young golfer",
        ],
        [
            "wins the championship after a dramatic penalty shootout",
            "breaks the world record in the hundred metres",
            "is suspended for three matches after a red card",
            "reaches the semi-final of the tournament",
            "loses at home for the first time this season",
            "signs with a rival club for the next two seasons",
            "takes gold at the winter games",
            "sacks its coach after five straight defeats",
        ],
    ),
    "business": (
        [
            "The country's largest bank",
            "A budget airline",
            "The electronics retailer",
            "A coffee shop chain",
            "The steel maker",
            "A software start-up",
            "The central bank",
            "A furniture company",
            "The stock market",
            "A shoe brand",
        ],
        [
            "raises interest rates for the third time this year",
            "reports a loss as sales slump",
            "is bought by a rival for two billion dollars",
            "hires five hundred workers for its new factory",
            "closes its shops in twelve cities",
            "sees its shares jump after strong quarterly earnings",
            "raises prices as costs climb",
            "announces a merger with its biggest competitor",
        ],
    ),
    "science": (
        [
            "A team of chemists",
            "The space agency's new telescope",
            "Geologists in Iceland",
            "A robot rover on Mars",
            "Researchers studying bees",
            "A particle accelerator",
            "Fossil hunters",
            "Climate scientists",
            "A group of mathematicians",
            "Zoologists in the rainforest",
        ],
        [
            "discovers a new kind of crystal",
            "captures the first image of a black hole's shadow",
            "finds evidence of ancient water beneath the surface",
            "uncovers the bones of an unknown dinosaur",
            "observes a comet passing close to the sun",
            "measures how fast the glaciers are melting",
            "records a frog species never seen before",
            "solves a puzzle about how stars are born",
        ],
    ),
    "health": (
        [
            "Nurses at the regional hospital",
            "A new vaccine",
            "Family doctors",
            "A large study of diets",
            "The health ministry",
            "Heart surgeons",
            "A cancer charity",
            "Dentists",
            "Mental health experts",
            "A clinic for diabetes patients",
        ],
        [
            "warns that too much sugar raises the risk of disease",
            "cuts hospital stays for patients with pneumonia",
            "says waiting lists for surgery are getting longer",
            "finds that eating vegetables protects the heart",
            "urges parents to vaccinate their children against measles",
            "reports a rise in cases of the flu this winter",
            "recommends eight hours of sleep for better health",
            "trials a new drug for patients with migraines",
        ],
    ),
}
TAILS = ["", "", "", " on Tuesday", " this week", ", reports say", " after months of waiting", " in the north"]


def cases(n: int, seed: int = 7) -> list[tuple[dict, str]]:
    """n unseen headlines, cycling through the sections, with a fixed seed."""
    rng = random.Random(seed)
    seen, out, labels = set(PROMPT.split("\n")), [], sorted(PARTS)
    while len(out) < n:
        label = labels[len(out) % len(labels)]
        subjects, events = PARTS[label]
        headline = f"{rng.choice(subjects)} {rng.choice(events)}{rng.choice(TAILS)}"
        if headline not in seen:
            seen.add(headline)
            out.append(({"headline": headline}, label))
    return out


def spec_cases(path: str) -> tuple[str, list[tuple[dict, str]]]:
    """A completion spec (of prompts/, say) and its cases, for a cross-check on a task of another
    kind; answers are checked as labels, whatever the spec's scorer."""
    from promptslim.spec import load_spec

    spec = load_spec(path)
    return spec.prompt.text, [(c.vars, str(c.expected).lower()) for c in spec.cases]


def accuracy(llm, prompt: str, test: list[tuple[dict, str]]) -> float:
    """Share of cases whose greedy answer starts with the expected label."""
    from promptslim.prompt import Prompt

    right = 0
    for variables, label in test:
        tokens = llm.tokenize(Prompt.of(prompt).render(variables).text.encode(), add_bos=True)
        out = llm.create_completion(tokens, max_tokens=3, temperature=0.0, seed=0)
        right += out["choices"][0]["text"].strip().lower().startswith(label)
    return right / len(test)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rates", default="0.2,0.3,0.4,0.5,0.6,0.7,0.8")
    parser.add_argument("--show", action="store_true", help="print each pruned prompt")
    parser.add_argument("--spec", help="a prompt spec with its cases (prompts/*.yaml) instead of the news task")
    args = parser.parse_args()

    from promptslim.compress import compress
    from promptslim.tokens import local_backend, text_counter

    count, llm = text_counter("gpt-4o"), local_backend().llm
    prompt, test = spec_cases(args.spec) if args.spec else (PROMPT, cases(args.cases))
    total = count(prompt)
    base = accuracy(llm, prompt, test)
    print(f"original: {total} gpt-4o tokens, accuracy {base:.3f} on {len(test)} unseen cases")
    for rate in (float(r) for r in args.rates.split(",")):
        started = time.perf_counter()
        pruned = compress(prompt, method="prune", rate=rate).prompt
        took = time.perf_counter() - started
        acc = accuracy(llm, pruned, test)
        print(
            f"rate {rate:.1f}: kept {count(pruned) / total:.1%}  accuracy {acc:.3f}  "
            f"delta {acc - base:+.3f}  (pruned in {took:.2f} s)"
        )
        if args.show:
            print(pruned, "\n")


if __name__ == "__main__":
    main()
