"""Compare a run in the warehouse with the testbed's ground truth.

Presence accuracy is the share of expected (subject, obligation) pairs whose status in
``obligation_checks`` equals the expected one (a pair the run did not produce counts as
wrong). Findings are compared per code as sets of (subject, obligation) keys, giving
precision and recall per code.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.schema import connect


@dataclass
class CodeScore:
    code: str
    expected: int
    found: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.expected if self.expected else None


@dataclass
class Evaluation:
    run_id: str
    pairs: int
    correct: int
    confusion: Counter = field(default_factory=Counter)  # (expected, observed) -> count
    codes: dict[str, CodeScore] = field(default_factory=dict)
    mismatches: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.pairs if self.pairs else 0.0

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "pairs": self.pairs,
            "correct": self.correct,
            "presence_accuracy": round(self.accuracy, 4),
            "codes": {c: {"expected": s.expected, "found": s.found, "tp": s.true_positives,
                          "precision": s.precision, "recall": s.recall}
                      for c, s in sorted(self.codes.items())},
        }


def read_csv_rows(path: Path) -> list[dict]:
    """A ground-truth CSV as dicts."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def evaluate(warehouse: str | Path, run_id: str, ground_truth_dir: str | Path,
             max_mismatches: int = 50) -> Evaluation:
    truth = Path(ground_truth_dir)
    expected_checks = {(r["subject_id"], r["obligation_id"]): r["status"]
                       for r in read_csv_rows(truth / "expected_checks.csv")}
    expected_findings: dict[str, set] = defaultdict(set)
    for row in read_csv_rows(truth / "expected_findings.csv"):
        expected_findings[row["code"]].add((row["subject_id"], row["obligation_id"] or ""))

    with connect(warehouse, read_only=True) as con:
        observed_checks = {(s, o): st for s, o, st in con.execute(
            "SELECT subject_id, obligation_id, status FROM obligation_checks WHERE run_id = ?",
            [run_id]).fetchall()}
        observed_findings: dict[str, set] = defaultdict(set)
        for subject_id, obligation_id, code in con.execute(
                "SELECT subject_id, obligation_id, code FROM findings WHERE run_id = ?",
                [run_id]).fetchall():
            observed_findings[code].add((subject_id, obligation_id or ""))

    result = Evaluation(run_id=run_id, pairs=len(expected_checks), correct=0)
    for key, status in sorted(expected_checks.items()):
        observed = observed_checks.get(key, "(absent)")
        result.confusion[(status, observed)] += 1
        if observed == status:
            result.correct += 1
        elif len(result.mismatches) < max_mismatches:
            result.mismatches.append((key[0], key[1], status, observed))
    for code in set(expected_findings) | set(observed_findings):
        expected, found = expected_findings.get(code, set()), observed_findings.get(code, set())
        result.codes[code] = CodeScore(code, len(expected), len(found), len(expected & found))
    return result


def format_evaluation(result: Evaluation) -> str:
    lines = [f"Presence accuracy: {result.accuracy:.1%} "
             f"({result.correct}/{result.pairs} subject-obligation pairs)"]
    lines.append(f"{'finding code':<26}{'expected':>9}{'found':>7}{'precision':>11}{'recall':>8}")
    for code, score in sorted(result.codes.items()):
        p = "-" if score.precision is None else f"{score.precision:.2f}"
        r = "-" if score.recall is None else f"{score.recall:.2f}"
        lines.append(f"{code:<26}{score.expected:>9}{score.found:>7}{p:>11}{r:>8}")
    return "\n".join(lines)
