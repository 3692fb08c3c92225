"""A `regex` check whose pattern Python's parser cannot take is a spec error with a reason, not a crash."""

from __future__ import annotations

import asyncio

import pytest

from app.core.evals.assertions import AssertionSpecError, check_assertion, grade
from app.core.prototype import Assertion


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(?:" * 5000 + "a" + ")" * 5000, "groups nested too deep"),  # RecursionError in sre_parse
    ("a{99999999999}", "a repeat count is too large"),  # OverflowError
    ("(", "missing ), unterminated subpattern"),  # re.error, as before
])
def test_pattern_python_cannot_compile_is_a_spec_error(pattern: str, reason: str) -> None:
    assertion = Assertion(type="regex", value=pattern)
    with pytest.raises(AssertionSpecError, match="invalid regular expression"):
        check_assertion(assertion)
    result = asyncio.run(grade(assertion, "aaa"))
    assert not result.passed and reason in result.reason
