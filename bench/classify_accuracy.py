"""Classifier accuracy: labelled set by 5-fold cross-validation, and the held-out sets (never trained on).

The labelled set is what the model trains on, so its honest figure is cross-validated: the model is refitted
on four fifths and scored on the fifth.  The keyword tables cannot be refitted that way (they were written
while reading the labelled set), so the cross-validated hybrid figure still flatters the rules; the "model
only" column shows what the statistical half manages alone.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from fazhizhen.services import classify as clf

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
FOLDS = 5


def _load(name: str) -> list[tuple[str, str]]:
    path = DATA / name
    if not path.exists():
        return []
    return [
        (item["text"], item["category"])
        for item in (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    ]


def _accuracy(rows: list[tuple[str, str]], model: clf._Model, weight: float | None) -> float:
    """Share right; weight None = hybrid as shipped, 0 = rules only, inf = model only."""
    right = 0
    for text, expected in rows:
        if weight is None:
            predicted = clf.best_category(clf.scores_with_model(text, model))
        elif weight == 0:
            predicted = clf.best_category(clf.scores_with_model(text, clf._Model((), {})))
        else:
            normalised = clf._normalise(text)
            tokens = list(clf._get_tables().tokenizer.tokenize(normalised, HMM=False))
            posterior = clf._model_posterior(clf._features(normalised, tokens), model)
            predicted = max(posterior, key=lambda c: posterior[c]) if posterior else "other"
        right += predicted == expected
    return right / len(rows)


def main() -> None:
    tokenizer = clf._get_tables().tokenizer
    labelled = clf.load_training_rows()
    order = list(range(len(labelled)))
    random.Random(1).shuffle(order)
    report: dict[str, dict[str, float]] = {}
    cv = {"hybrid": 0, "rules": 0, "model": 0}
    for fold in range(FOLDS):
        test = [labelled[i] for i in order[fold::FOLDS]]
        train = [labelled[i] for j, i in enumerate(order) if j % FOLDS != fold]
        model = clf.train_model(train, tokenizer)
        for name, weight in (("hybrid", None), ("rules", 0.0), ("model", float("inf"))):
            cv[name] += _accuracy(test, model, weight) * len(test)
    report["labelled_5fold_cv"] = {name: round(right / len(labelled), 3) for name, right in cv.items()}
    full = clf._get_tables().model
    for name in ("questions_holdout.jsonl", "questions_eval.jsonl", "questions_blind.jsonl"):
        rows = _load(name)
        if rows:
            report[name.removesuffix(".jsonl")] = {
                label: round(_accuracy(rows, full, weight), 3)
                for label, weight in (("hybrid", None), ("rules", 0.0), ("model", float("inf")))
            } | {"n": len(rows)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
