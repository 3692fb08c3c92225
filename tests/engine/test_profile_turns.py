"""A profile with its own turns (an imported promptfoo prompt) sends them, with the case's vars filled."""

from __future__ import annotations

from app.core.messages import build_messages
from app.core.prototype import Case, Profile, Turn


def test_profile_turns_replace_the_case_turns() -> None:
    case = Case(id="c", vars={"q": "why?"}, turns=[Turn(content="{{q}}")])
    own = Profile(id="p", system_prompt="Be brief.", turns=[Turn(content="Answer briefly: {{q}}")])
    plain = Profile(id="plain")
    assert [(m.role, m.content) for m in build_messages(None, own, case)] == [
        ("system", "Be brief."), ("user", "Answer briefly: why?")
    ]
    assert [(m.role, m.content) for m in build_messages(None, plain, case)] == [("user", "why?")]
