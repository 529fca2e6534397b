"""A seeded call log: TEMPLATES x random fills, in OpenAI request+response form, with usage
counted the way an API would (the fixed part's tokens plus the fill's) and output lengths
drawn per template, one of them wide and capped.

    python bench/make_logs.py OUT.jsonl [--records N] [--seed S] [--parquet OUT.parquet]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator

WORDS = (
    "order delivery refund broken screen battery charger late package invoice account password login error "
    "payment card bank warranty repair replace return shipping address phone email support manager price "
    "discount coupon subscription cancel renew upgrade plan feature app update crash slow fast quality size "
    "colour fabric shoe jacket coffee machine kettle blender vacuum lamp desk chair table sofa garden hose"
).split()
NAMES = ("Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lena", "Mo", "Nia")
START = 1_767_225_600  # 2026-01-01, seconds
SPAN = 30 * 86400  # the log covers 30 days


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _support(rng):
    fill = f"Customer {rng.choice(NAMES)} (account {rng.randint(10000, 99999)}) asks: {_words(rng, 6, 30)}?"
    system = (
        "You are a support agent for Acme. Please kindly answer politely and briefly, and in order to help "
        "the customer, it is important to note that you only talk about Acme products."
    )
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": fill}]}


def _review(rng):
    text = f"Summarize the following review in one sentence.\n\nReview: {_words(rng, 10, 60)}.\n\nSummary:"
    return {"prompt": text}


def _translate(rng):
    system = "You translate English into French. Reply with the translation only, nothing else."
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": _words(rng, 3, 25)}]}


def _invoice(rng):
    user = (
        f"Extract the invoice number and the total from this e-mail sent by {rng.choice(NAMES).lower()}"
        f'@example.com:\n"{_words(rng, 8, 40)} invoice {rng.randint(1000, 9999)}"\nAnswer as JSON.'
    )
    return {"messages": [{"role": "user", "content": user}]}


def _describe(rng):
    user = (
        f"Write a product description for the {_words(rng, 1, 3)} in {rng.choice((50, 80, 120))} words, "
        f"for the {rng.choice(WORDS)} category. Use a friendly tone and no superlatives."
    )
    return {"messages": [{"role": "user", "content": user}]}


# (request maker, output tokens: (mean, spread), max_tokens); the last one's outputs vary widely
TEMPLATES = (
    (_support, (120, 30), 400),
    (_review, (30, 6), 64),
    (_translate, (40, 15), 200),
    (_invoice, (25, 4), 100),
    (_describe, (150, 200), 300),
)


def _tokens(request: dict) -> int:
    """What an API would count, near enough: ~1.3 tokens a word, 4 a message."""
    texts = [m["content"] for m in request.get("messages") or []] or [request["prompt"]]
    return sum(int(len(t.split()) * 1.3) + 4 for t in texts)


def log_records(fills: int = 100, seed: int = 7) -> Iterator[tuple[int, dict]]:
    """(template index, record) for `fills` calls of each template, shuffled."""
    rng = random.Random(seed)
    order = [t for t in range(len(TEMPLATES)) for _ in range(fills)]
    rng.shuffle(order)
    for n, t in enumerate(order):
        make, (mean, spread), cap = TEMPLATES[t]
        request = {"model": "gpt-4o-mini", **make(rng), "max_tokens": cap}
        wanted = max(1, int(rng.lognormvariate(0, 1) * spread if spread > mean else rng.gauss(mean, spread)))
        completion = min(wanted, cap)
        prompt_tokens = _tokens(request)
        response = {
            "id": f"chatcmpl-{seed}-{n}",
            "created": START + rng.randrange(SPAN),
            "model": "gpt-4o-mini",
            "choices": [{"finish_reason": "length" if wanted >= cap else "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion,
            },
        }
        yield t, {"request": request, "response": response}


def write_jsonl(path, records) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for _, record in records:
            out.write(json.dumps(record) + "\n")


def parquet_schema():
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    request = pa.struct(
        [("model", pa.string()), ("messages", pa.list_(message)), ("prompt", pa.string()), ("max_tokens", pa.int64())]
    )
    usage = pa.struct([(k, pa.int64()) for k in ("prompt_tokens", "completion_tokens", "total_tokens")])
    response = pa.struct(
        [
            ("id", pa.string()),
            ("created", pa.int64()),
            ("model", pa.string()),
            ("choices", pa.list_(pa.struct([("finish_reason", pa.string())]))),
            ("usage", usage),
        ]
    )
    return pa.schema([("request", request), ("response", response)])


def write_parquet(path, records, row_group: int = 50_000) -> None:
    """Row groups of `row_group` records, written as they come: never the whole log in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    with pq.ParquetWriter(path, schema) as writer:
        batch = []
        for _, record in records:
            batch.append(record)
            if len(batch) == row_group:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--parquet")
    args = parser.parse_args()
    fills = args.records // len(TEMPLATES)
    write_jsonl(args.out, log_records(fills=fills, seed=args.seed))
    if args.parquet:
        write_parquet(args.parquet, log_records(fills=fills, seed=args.seed))


if __name__ == "__main__":
    main()
