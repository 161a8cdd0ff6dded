"""The semantic cache on a paraphrase set (bench/paraphrases.json), on a local host started for
the run with SEMANTIC_CACHE = "*":

    make bench ARGS=--semantic-only        # or: .venv/bin/python scripts/semantic_cache_bench.py

1. Through the service, at the deployment's threshold (SEMANTIC_CACHE_THRESHOLD): one caller asks
   each group's question, then every paraphrase, then every different question, as a chat does
   (each one missed is answered, then kept, as it would be). The local model stand-in answers
   "You said: <question>", so an answer served from the cache names the question it was kept for:
   a paraphrase served its own group's answer is a hit; served another group's, a false hit; a
   different question served any answer, a false hit.
2. The same set's best scores (cosine, each paraphrase and different question against the
   questions) from the embedding model the cache uses, for a sweep of thresholds.

The local embedding model is a stand-in (local/ai.mjs: lexical hashing, plurals made singular, filler
words left out); the numbers on Workers AI's @cf/baai/bge-base-en-v1.5 are a deployment's to take:
--url URL --key KEY runs both parts against it (its SEMANTIC_CACHE naming the key's caller)."""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.localhost import CONFIGS, PROJECT_ROOT, LocalHost, scratch_state  # noqa: E402

PARAPHRASES = PROJECT_ROOT / "bench" / "paraphrases.json"
ADMIN_TOKEN = "semantic-bench-admin-token"
EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"
THRESHOLDS = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
ANSWER_PREFIX = "You said: "


def groups() -> list[dict]:
    return json.loads(PARAPHRASES.read_text())["groups"]


def ask(client: httpx.Client, question: str) -> tuple[str, float | None, str]:
    """(x-cache, x-cache-score, the answer's text) of a chat asking `question`."""
    body = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": question}]}]}
    response = client.post("/stream/chat", json=body)
    response.raise_for_status()
    text = "".join(json.loads(line[6:])["delta"] for line in response.text.split("\n\n")
                   if line.startswith("data: {") and '"text-delta"' in line)
    score = response.headers.get("x-cache-score")
    return response.headers["x-cache"], float(score) if score else None, text


def asked_for(answer: str) -> str:
    """The question an answer of the stand-in was given: 'You said: <question> (a deterministic reply ...)'."""
    return answer.removeprefix(ANSWER_PREFIX).rsplit(" (a deterministic reply", 1)[0].strip()


def through_the_service(client: httpx.Client) -> dict:
    sets = groups()
    group_of = {}
    for number, group in enumerate(sets):
        group_of[group["question"]] = number
        for paraphrase in group["paraphrases"]:
            group_of[paraphrase] = number
        for different in group["different"]:
            group_of[different] = number
    for group in sets:
        ask(client, group["question"])
    counts = {"paraphrases": 0, "hits": 0, "wrong answers": 0, "different": 0, "false hits": 0, "scores": []}
    started = time.perf_counter()
    for number, group in enumerate(sets):
        for paraphrase in group["paraphrases"]:
            state, score, answer = ask(client, paraphrase)
            counts["paraphrases"] += 1
            if state == "semantic":
                counts["scores"].append(score)
                counts["hits" if group_of.get(asked_for(answer)) == number else "wrong answers"] += 1
    for group in sets:
        for different in group["different"]:
            state, _score, _answer = ask(client, different)
            counts["different"] += 1
            counts["false hits"] += state == "semantic"
    counts["ms per question"] = (time.perf_counter() - started) * 1000 / (counts["paraphrases"] + counts["different"])
    return counts


def cosine(a: list[float], b: list[float]) -> float:
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norms if norms else 0.0


def embedded(client: httpx.Client, texts: list[str]) -> list[list[float]]:
    response = client.post("/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": texts})
    response.raise_for_status()
    return [item["embedding"] for item in response.json()["data"]]


def sweep(client: httpx.Client) -> list[str]:
    """Each paraphrase's and different question's nearest question, and the rates each threshold gives."""
    sets = groups()
    questions = embedded(client, [g["question"] for g in sets])
    paraphrases = [(n, v) for n, g in enumerate(sets) for v in embedded(client, g["paraphrases"])]
    different = [(n, v) for n, g in enumerate(sets) for v in embedded(client, g["different"])]

    def nearest(vector: list[float]) -> tuple[int, float]:
        scores = [cosine(vector, q) for q in questions]
        best = max(range(len(scores)), key=scores.__getitem__)
        return best, scores[best]

    rows = ["| threshold | paraphrases answered with their question's answer | answered with another's | "
            "different questions answered (false hits) |", "|---|---|---|---|"]
    found = [(n, *nearest(v)) for n, v in paraphrases]
    others = [nearest(v)[1] for _, v in different]
    for threshold in THRESHOLDS:
        hits = sum(best == n and score >= threshold for n, best, score in found)
        wrong = sum(best != n and score >= threshold for n, best, score in found)
        false = sum(score >= threshold for score in others)
        rows.append(f"| {threshold:.2f} | {hits}/{len(found)} ({hits / len(found):.0%}) | {wrong}/{len(found)} "
                    f"({wrong / len(found):.0%}) | {false}/{len(others)} ({false / len(others):.0%}) |")
    return rows


def report(client: httpx.Client, threshold: str) -> list[str]:
    counts = through_the_service(client)
    paraphrases, different = counts["paraphrases"], counts["different"]
    scores = sorted(counts["scores"])
    lines = [
        f"Through the service (threshold {threshold}, {len(groups())} questions, {paraphrases} paraphrases, "
        f"{different} different questions; {counts['ms per question']:.0f} ms a question, wall):",
        "",
        "| semantic cache | result |",
        "|---|---|",
        f"| hit rate: paraphrases answered with their question's answer | {counts['hits']}/{paraphrases} "
        f"({counts['hits'] / paraphrases:.0%}) |",
        f"| false hits: paraphrases answered with another question's answer | {counts['wrong answers']}/{paraphrases} "
        f"({counts['wrong answers'] / paraphrases:.0%}) |",
        f"| false hits: different questions answered from the cache | {counts['false hits']}/{different} "
        f"({counts['false hits'] / different:.0%}) |",
    ]
    if scores:
        lines.append(f"| scores of the hits: lowest, median | {scores[0]:.3f}, {scores[len(scores) // 2]:.3f} |")
    return [*lines, "", "Thresholds, on the same embeddings:", "", *sweep(client)]


def create_key(url: str) -> str:
    response = httpx.post(f"{url}/graphql", timeout=60, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}, json={
        "query": 'mutation { createApiKey(name: "semantic-bench", tier: ENTERPRISE) { key } }'})
    return response.json()["data"]["createApiKey"]["key"]


def measure() -> list[str]:
    with scratch_state() as state:
        variables = {"ADMIN_TOKEN": ADMIN_TOKEN, "SEMANTIC_CACHE": "*"}
        with LocalHost(CONFIGS, Path(state), variables=variables) as host:
            headers = {"authorization": f"Bearer {create_key(host.url)}"}
            with httpx.Client(base_url=host.url, timeout=60, headers=headers) as client:
                return report(client, "0.9 (the default)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a deployment whose SEMANTIC_CACHE names the key's caller (default: a local host)")
    parser.add_argument("--key", help="the API key to ask with, with --url")
    parser.add_argument("--threshold", default="the deployment's", help="what to call its threshold in the report, with --url")
    args = parser.parse_args()
    if args.url:
        with httpx.Client(base_url=args.url, timeout=60, headers={"authorization": f"Bearer {args.key}"}) as client:
            print("\n".join(report(client, args.threshold)))
        return
    print("\n".join(measure()))


if __name__ == "__main__":
    main()
