"""The parser against the hand-written test set (notes_testset.txt)."""

from __future__ import annotations

from jiepai.lib.notes import parse_note
from jiepai.lib.tests.notes_cases import load_cases, outcome


def test_testset_has_at_least_200_notes_with_varied_times() -> None:
    cases = load_cases()
    assert len(cases) >= 200
    texts = "".join(case.text for case in cases)
    for expression in ("明天上午10点", "下周二", "3天后", "月底前", "2月17日下午", "周五之前"):
        assert expression in texts


def test_parser_reads_contact_action_and_due_of_at_least_90_percent_exactly() -> None:
    outcomes = [outcome(case, parse_note(case.text, now=case.now)) for case in load_cases()]
    wrong = [o for o in outcomes if not o.all_ok]
    accuracy = 1 - len(wrong) / len(outcomes)
    report = "\n".join(
        f"line {o.case.line}: {o.case.text} → {o.contact} / {o.action} / {o.due}" for o in wrong
    )
    assert accuracy >= 0.90, f"exact-match accuracy {accuracy:.1%}\n{report}"
    for field in ("contact_ok", "action_ok", "due_ok"):
        assert sum(getattr(o, field) for o in outcomes) / len(outcomes) >= 0.90, field
