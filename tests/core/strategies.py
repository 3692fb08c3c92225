"""Hypothesis strategies that build whole prototype documents, including awkward text."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from app.core.prototype import (
    Assertion,
    Case,
    Message,
    ModelParams,
    ModelTarget,
    Preference,
    Profile,
    Prototype,
    Rating,
    Rule,
    Run,
    Turn,
    Usage,
)

# Every character a file may hold: unicode, control characters, odd line breaks. Lone surrogates
# are left out because they cannot be written as UTF-8 at all.
any_char = st.characters(exclude_categories=("Cs",))
one_line = st.text(any_char.filter(lambda c: c not in "\n\r\x85\u2028\u2029"), max_size=20)
# Multi-line text (the block-literal `|` path) with leading/trailing spaces and blank lines.
multi_line = st.lists(
    st.one_of(one_line, st.sampled_from(["", "  indented", "tab\there", "trailing  ", "# not a comment"])),
    min_size=2,
    max_size=4,
).map("\n".join) | st.lists(one_line, min_size=1, max_size=4).map(lambda lines: "\n".join(lines) + "\n")
text = st.one_of(st.text(any_char, max_size=20), one_line, multi_line, st.sampled_from(
    ["yes", "no", "null", "~", "true", "1.0", "0x1F", "2026-11-22", "- item", "key: value", "[a]", "{b}",
     "'quoted'", '"dq"', "*alias", "&anchor", "!tag", "%", "@", "`", "猫は可愛い 🐱", "", " ", "\t"]
))
ident = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_.:/猫é"), min_size=1, max_size=12
).filter(lambda s: s.strip() == s)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
json_like: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)


def _unique(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


rules = st.builds(Rule, id=ident, rule=text, good=st.lists(text, max_size=2), bad=st.lists(text, max_size=2))
profiles = st.builds(
    Profile,
    id=ident,
    name=text,
    description=text,
    form_factor=st.sampled_from(["chat", "canvas", "voice", "notification"]),
    system_prompt=text,
    custom_instructions=text,
    behavior_spec=st.lists(rules, max_size=2).map(_unique),
)
params = st.builds(
    ModelParams,
    temperature=st.none() | st.floats(0, 2),
    max_tokens=st.none() | st.integers(1, 100_000),
    top_p=st.none() | st.floats(0, 1),
    seed=st.none() | st.integers(-(2**63), 2**63),
)
base_urls = st.builds(
    "{}://{}{}/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6})?", fullmatch=True),
    st.sampled_from(["", ":8080", ":11434"]),
    st.sampled_from(["v1", "api/v1", "v1beta/openai"]),
)
models = st.builds(
    ModelTarget, id=ident, provider=ident, model=text.filter(bool), name=text,
    base_url=st.none() | base_urls, params=params,
)
assertions = st.builds(
    Assertion,
    type=text.filter(bool),
    value=json_like,
    weight=st.floats(0, 1e6),
    threshold=st.none() | finite,
    judge=st.none() | ident,
    description=text,
)
cases = st.builds(
    Case,
    id=ident,
    description=text,
    vars=st.dictionaries(text, text, max_size=3),
    turns=st.lists(
        st.builds(Turn, role=st.sampled_from(["user", "assistant"]), content=text), min_size=1, max_size=3
    ),
    assert_=st.lists(assertions, max_size=3),
)
runs = st.builds(
    Run,
    id=ident,
    created=st.sampled_from(["2026-11-22T06:00:00Z", "2026-01-01T00:00:00Z"]),
    profile=ident,
    model=ident,
    case=ident,
    sample=st.integers(0, 5),
    provider=text,
    model_name=text,
    params=params,
    messages=st.lists(st.builds(Message, role=st.sampled_from(["system", "user", "assistant"]), content=text),
                      max_size=3),
    output=text,
    status=st.sampled_from(["ok", "error", "cancelled", "cut"]),
    error=st.none() | text,
    finish_reason=st.none() | text,
    usage=st.builds(Usage, prompt_tokens=st.none() | st.integers(0, 10**6),
                    completion_tokens=st.none() | st.integers(0, 10**6)),
    ttft_ms=st.none() | st.floats(0, 1e7),
    latency_ms=st.none() | st.floats(0, 1e7),
    cost_usd=st.none() | st.floats(0, 1e4),
    cached=st.booleans(),
    ratings=st.lists(st.builds(Rating, rater=st.sampled_from(["", "ana", "Bo <bo@example.com>"]),
                               thumb=st.none() | st.sampled_from(["up", "down"]), note=text,
                               tags=st.lists(text, max_size=2)),
                     max_size=2, unique_by=lambda r: r.rater),
)


@st.composite
def prototypes(draw: st.DrawFn) -> Prototype:
    """A valid prototype: unique ids, and preferences that point at runs that exist."""
    run_list = draw(st.lists(runs, max_size=2).map(_unique))
    prefs: list[Preference] = []
    if run_list:
        run_ids = st.sampled_from([r.id for r in run_list])
        prefs = draw(st.lists(st.builds(
            Preference, id=ident, created=st.just("2026-11-22T06:00:00Z"), a=run_ids, b=run_ids,
            verdict=st.sampled_from(["a", "b", "tie", "both_bad"]), blind=st.booleans(), note=text,
        ), max_size=2).map(_unique))
    return Prototype(
        name=draw(text.filter(bool)),
        description=draw(text),
        tags=draw(st.lists(text, max_size=3)),
        profiles=draw(st.lists(profiles, max_size=2).map(_unique)),
        models=draw(st.lists(models, max_size=2).map(_unique)),
        cases=draw(st.lists(cases, max_size=2).map(_unique)),
        default_assert=draw(st.lists(assertions, max_size=2)),
        runs=run_list,
        preferences=prefs,
    )
