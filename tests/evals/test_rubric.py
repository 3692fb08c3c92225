"""Reading a judge's answer: JSON, fenced JSON, prose around JSON, PASS/FAIL first words, garbage."""

from __future__ import annotations

import pytest

from app.core.evals.rubric import parse_verdict, rubric_messages


@pytest.mark.parametrize(
    ("text", "passed", "reason"),
    [
        ('{"pass": true, "reason": "Short and kind."}', True, "Short and kind."),
        ('{"pass": false, "reason": "Uses a list."}', False, "Uses a list."),
        ('```json\n{"pass": "false", "reason": "No."}\n```', False, "No."),
        ('Here is my grade: {"passed": "yes", "explanation": "fine"} hope it helps', True, "fine"),
        ('{"verdict": "FAIL", "reason": "rude"}', False, "rude"),
        ('{"score": 0.9, "reason": "mostly"}', True, "mostly"),
        ("PASS: the answer is short", True, "the answer is short"),
        ("**FAIL** - it rambles", False, "it rambles"),
        ("fail.", False, ""),
        ("Yes, it follows the rubric.", True, "it follows the rubric."),
    ],
)
def test_parse_verdict(text: str, passed: bool, reason: str) -> None:
    verdict = parse_verdict(text)
    assert verdict.passed is passed
    assert verdict.reason == reason


def test_score_is_kept_when_given() -> None:
    assert parse_verdict('{"pass": true, "score": 0.25}').score == 0.25
    assert parse_verdict('{"pass": true, "score": 7}').score is None  # not on a 0..1 scale


@pytest.mark.parametrize(
    "text", ["", "The response is okay I think", '{"reason": "no verdict"}', "Passable answer"]
)
def test_unreadable_answers_raise_quoting_the_answer(text: str) -> None:
    with pytest.raises(ValueError, match="judge answer not understood"):
        parse_verdict(text)


def test_rubric_messages_ask_for_json() -> None:
    messages = rubric_messages("Be brief", "", "hi")
    assert messages[0].role == "system" and '"pass"' in messages[0].content
    assert "(empty response)" in messages[1].content
