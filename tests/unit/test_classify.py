"""Category classifier: accuracy on hand-labelled questions, robustness on odd input, mixed-topic rules.

The labelled questions ship in the package (the model trains on them); the holdout and eval sets live only
here and must never be trained on.  Cross-validated figures are in bench/classify_accuracy.py.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from fazhizhen.services import classify as classifier
from fazhizhen.services.categories import CATEGORIES
from fazhizhen.services.classify import classify, classify_scores, load_training_rows

DATA = Path(__file__).resolve().parents[1] / "data"
REPO = Path(__file__).resolve().parents[2]


def _load(name: str) -> list[tuple[str, str]]:
    rows = []
    with (DATA / name).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                item = json.loads(line)
                rows.append((item["text"], item["category"]))
    return rows


LABELLED = load_training_rows()
HOLDOUT = _load("questions_holdout.jsonl")
# Written before the hybrid model and the weak-spot rules, in residents' voices (typos, dialect, WeChat style).
EVAL = _load("questions_eval.jsonl")
# Written after the hybrid was frozen and never tuned on.
BLIND = _load("questions_blind.jsonl")


def _report(name: str, rows: list[tuple[str, str]]) -> float:
    """Print accuracy and a per-category confusion summary (visible with pytest -s); return accuracy."""
    confusion: dict[str, Counter[str]] = {code: Counter() for code in CATEGORIES}
    for text, expected in rows:
        confusion[expected][classify(text)] += 1
    correct = sum(confusion[code][code] for code in CATEGORIES)
    accuracy = correct / len(rows)
    print(f"\n{name}: accuracy {accuracy:.1%} ({correct}/{len(rows)})")
    for code, predicted in confusion.items():
        total = sum(predicted.values())
        if not total:
            continue
        wrong = ", ".join(f"{other}×{n}" for other, n in predicted.most_common() if other != code)
        print(f"  {code:16} {predicted[code]:3}/{total:<3} {predicted[code] / total:6.1%}  {wrong}")
    return accuracy


def test_datasets_are_large_varied_and_separate() -> None:
    counts = Counter(category for _, category in LABELLED)
    assert len(LABELLED) >= 220
    assert set(counts) == set(CATEGORIES)
    assert all(counts[code] >= 12 for code in CATEGORIES)
    assert all(counts[code] >= 30 for code in ("neighbor", "property", "marriage_family"))
    assert len(HOLDOUT) >= 60
    assert {category for _, category in HOLDOUT} == set(CATEGORIES)
    eval_counts = Counter(category for _, category in EVAL)
    assert len(EVAL) >= 150
    assert all(eval_counts[code] >= 10 for code in CATEGORIES)
    assert all(eval_counts[code] >= 20 for code in ("neighbor", "property", "marriage_family"))
    assert len(BLIND) >= 60
    assert {category for _, category in BLIND} == set(CATEGORIES)
    texts = [text for text, _ in LABELLED + HOLDOUT + EVAL + BLIND]
    assert len(texts) == len(set(texts)), "a question appears twice (or the model trains on a held-out one)"


def test_labelled_accuracy() -> None:
    assert _report("labelled", LABELLED) >= 0.85


def test_holdout_accuracy() -> None:
    # Written after the first keyword tables were frozen; its misses then named the weak spots the rules now
    # cover, so it is development data rather than a blind figure (97.9% when the gate was set).
    assert _report("holdout", HOLDOUT) >= 0.93


def test_eval_accuracy() -> None:
    # Never trained on; 94.2% when the gate was set (86.9% for the keyword rules it replaced).
    assert _report("eval", EVAL) >= 0.90


def test_blind_accuracy() -> None:
    # 90.8% (59/65) the first and only time it was measured; the rules it replaced scored 83.1%.
    assert _report("blind", BLIND) >= 0.85


def test_the_model_reads_phrasings_no_rule_knows() -> None:
    # No keyword rule fires on these; only the model's evidence gets them out of "other".
    texts = {"媳妇要跟我分开过": "marriage_family", "买的东西坏了不给换": "consumer"}
    rules_only = classifier._Model((), {})
    for text, expected in texts.items():
        assert classifier.best_category(classifier.scores_with_model(text, rules_only)) == "other"
        assert classify(text) == expected


def test_the_model_learns_from_its_training_rows() -> None:
    tokenizer = classifier._get_tables().tokenizer
    rows = [("楼上的狗一直叫", "neighbor"), ("工地的包工头不结账", "labor")]
    model = classifier.train_model(rows, tokenizer)
    posterior = classifier._model_posterior({"狗", "叫", "狗叫", "楼上"}, model)
    assert posterior is not None
    assert max(posterior, key=lambda code: posterior[code]) == "neighbor"
    assert classifier._model_posterior({"😭"}, model) is None


def test_every_answer_is_a_known_category() -> None:
    for text, _ in LABELLED + HOLDOUT + EVAL + BLIND:
        assert classify(text) in CATEGORIES


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t\u3000",
        "😭😭😭🙏",
        "[捂脸][捂脸]",
        "？？？！！！。。。",
        "hello, is anyone there",
        "ＡＢＣ１２３",
        "a" * 5000,
        "楼上漏水" * 1250,
        "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(5000)),
    ],
)
def test_odd_input_returns_a_valid_code(text: str) -> None:
    assert classify(text) in CATEGORIES
    scores = classify_scores(text)
    assert set(scores) == set(CATEGORIES)
    assert all(score >= 0 for score in scores.values())


@pytest.mark.parametrize("text", ["", "   ", "😭😭😭", "？？？", "在吗", "谢谢", "你好"])
def test_no_evidence_means_other(text: str) -> None:
    assert classify(text) == "other"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("楼上邻居天天半夜蹦迪太吵了", "neighbor"),
        ("物业费不交物业就停我家电梯卡", "property"),
        ("老公出轨要离婚孩子抚养权归谁", "marriage_family"),
    ],
)
def test_top_categories(text: str, expected: str) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("公司拖欠工资三个月了怎么办", "labor"),
        ("上班期间受伤公司不给认定工伤", "labor"),
        ("骑车被汽车撞了交警认定对方全责", "traffic"),
        ("房东不退押金", "housing"),
        ("开发商逾期交房怎么索赔", "housing"),
        ("装修公司收了钱不干活", "contract"),
        ("朋友借钱不还有借条", "debt"),
        ("父亲去世没留遗嘱房子怎么继承", "inheritance"),
        ("网购买到假货商家拒绝退款", "consumer"),
        ("孩子落户口需要什么材料", "other"),
        ("签证被拒了怎么办", "other"),
        ("离昏后孩子抚养费怎么算", "marriage_family"),
        ("wuye乱收停车费", "property"),
        ("彩礼给了28万女方悔婚", "marriage_family"),
    ],
)
def test_unambiguous_questions(text: str, expected: str) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 物业 only as the place the resident complained to: the dispute is with the neighbour.
        ("物业不管楼上漏水", "neighbor"),
        ("楼上漏水找物业物业说不归他们管", "neighbor"),
        # 物业 with its own duties at stake: a property dispute.
        ("小区电梯坏了一个月物业不修", "property"),
        # a death and an estate outweigh the family words around them
        ("老公去世了婆婆要分他名下的房子", "inheritance"),
        # a divorce outweighs the house being divided
        ("离婚的时候婚后买的房子怎么分", "marriage_family"),
        # the work-injury question outweighs the accident it came from
        ("上班路上被车撞了算不算工伤", "labor"),
        # renting is housing even though a 合同 is involved
        ("租房合同没到期房东要收房", "housing"),
    ],
)
def test_mixed_topics_follow_the_documented_rules(text: str, expected: str) -> None:
    assert classify(text) == expected


def test_classify_is_the_top_score() -> None:
    for text, _ in HOLDOUT:
        scores = classify_scores(text)
        best = classify(text)
        if best != "other":
            assert scores[best] == max(scores.values())


def test_first_use_is_quiet_and_warning_free() -> None:
    # A fresh interpreter with warnings as errors: jieba must neither warn nor log its dictionary loading.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "from fazhizhen.services.classify import classify; print(classify('房东不退押金'))"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "housing"
    assert result.stderr == ""
