"""The prototype the UI tests drive: profiles x one fake-server model x cases (a plain module, so a
test or a subprocess can import it; `conftest` can't be imported by name)."""

from __future__ import annotations

from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn


def fake_prototype(base_url: str, *, profiles: int = 2, cases: int = 2, local: bool = True) -> Prototype:
    """Profiles x one fake-server model x cases, plus the bundled local target (not shown by default)."""
    models = [ModelTarget(id="fake", provider="vllm", model="fake-model", name="Fake", base_url=base_url)]
    if local:
        models.insert(0, ModelTarget(id="local", provider="local", model="smollm2-135m-instruct"))
    return Prototype(
        name="UI test",
        profiles=[
            Profile(id=f"p{n}", name=f"Profile {n}", system_prompt=f"You are variant {n}. Cat: {{{{cat}}}}.")
            for n in range(1, profiles + 1)
        ],
        models=models,
        cases=[
            Case(id=f"c{n}", vars={"cat": "Tom"}, turns=[Turn(content=f"Question {n}?")])
            for n in range(1, cases + 1)
        ],
    )
