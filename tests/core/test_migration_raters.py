"""Format 2 -> 3: a run's single `rating:` becomes `ratings:` with no rater, which reads as "unknown"."""

from __future__ import annotations

from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.migrations import v2_to_v3
from app.core.ratings import rater_label, raters, rating_of

OLD = """\
protostudio: {version}
name: Rated before raters
cases:
  - id: c1
    turns: [{{content: hi}}]
runs:
  - id: r1
    created: "2026-01-01T00:00:00Z"
    profile: p
    model: m
    case: c1
    output: hello
    rating: {{thumb: up, note: warm, tags: [tone]}}
  - id: r2
    created: "2026-01-01T00:00:00Z"
    profile: p
    model: m
    case: c1
    output: hey
    rating: {{}}
  - {{id: r3, created: "2026-01-01T00:00:00Z", profile: p, model: m, case: c1, output: yo}}
preferences:
  - {{id: v1, created: "2026-01-01T00:00:00Z", a: r1, b: r3, verdict: a, blind: true}}
"""


def test_old_ratings_load_with_no_rater_and_read_as_unknown() -> None:
    for version in (1, 2):
        proto = parse_prototype(OLD.format(version=version), "old.yaml")
        assert proto.protostudio == 3
        [rating] = proto.run("r1").ratings
        assert (rating.rater, rating.thumb, rating.note, rating.tags, rating.updated) == ("", "up", "warm",
                                                                                         ["tone"], None)
        assert rater_label(rating.rater) == "unknown"
        assert rating_of(proto.run("r1"), "unknown").thumb == "up"
        assert proto.run("r2").ratings == [] and proto.run("r3").ratings == []  # empty ratings are dropped
        assert proto.preferences[0].rater == "" and not proto.preferences[0].swapped
        assert raters(proto) == ["unknown"]


def test_migrated_file_saves_canonically_and_loads_again_unchanged() -> None:
    text = dumps_prototype(parse_prototype(OLD.format(version=2), "old.yaml"))
    assert "rating:" not in text and "ratings:\n      - thumb: up\n        note: warm\n" in text
    assert dumps_prototype(parse_prototype(text)) == text


def test_the_step_is_a_pure_dict_transform_that_ignores_what_it_does_not_own() -> None:
    data = {"name": "x", "runs": [{"id": "r", "rating": {"thumb": "down"}, "messages_ref": 3}, "odd"]}
    assert v2_to_v3(data) == {"name": "x", "runs": [{"id": "r", "messages_ref": 3,
                                                       "ratings": [{"thumb": "down"}]}, "odd"]}
    assert v2_to_v3({"name": "no runs"}) == {"name": "no runs"}


def test_two_ratings_by_one_rater_are_refused_with_a_position() -> None:
    text = (
        "protostudio: 3\nname: Dup\ncases:\n  - {id: c1, turns: [{content: hi}]}\nruns:\n"
        '  - {id: r1, created: "2026-01-01T00:00:00Z", profile: p, model: m, case: c1,\n'
        "     ratings: [{rater: ana, thumb: up}, {rater: ana, thumb: down}]}\n"
    )
    try:
        parse_prototype(text, "dup.yaml")
    except PrototypeError as exc:
        assert str(exc) == "dup.yaml:7:41: run 'r1' has two ratings by 'ana'; keep one rating per rater"
    else:
        raise AssertionError("a duplicate rater loaded")


def test_a_version_1_file_with_inline_messages_and_a_rating_goes_through_both_steps() -> None:
    old = OLD.format(version=1).replace(
        "    output: hello\n", "    messages: [{role: user, content: hi}]\n    output: hello\n"
    )
    proto = parse_prototype(old, "v1.yaml")
    [rating] = proto.run("r1").ratings
    assert (rating_of(proto.run("r1"), "unknown").thumb, rating.note) == ("up", "warm")
    assert [m.content for m in proto.run("r1").messages] == ["hi"]
    text = dumps_prototype(proto)
    assert text.startswith("protostudio: 3\n") and "prompts:" in text and "prompt: p-" in text
    assert "rating:" not in text and "ratings:" in text
    assert dumps_prototype(parse_prototype(text)) == text
