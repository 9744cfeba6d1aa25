"""Classifier speed: cold start (jieba + model training) and milliseconds per question after warm-up."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fazhizhen.services.classify import classify, load_training_rows

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> None:
    t0 = time.perf_counter()
    classify("热身")
    cold = time.perf_counter() - t0
    texts = [text for text, _ in load_training_rows()] + [
        json.loads(line)["text"]
        for name in ("questions_holdout.jsonl", "questions_eval.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for text in texts:
            classify(text)
        best = min(best, (time.perf_counter() - t0) / len(texts) * 1000)
    print(json.dumps({"questions": len(texts), "cold_start_s": round(cold, 3), "ms_per_question": round(best, 4)}))


if __name__ == "__main__":
    main()
