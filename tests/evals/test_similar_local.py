"""`similar` on the real bundled model (llama.cpp embedding mode in the local child), offline.

The bundled SmolLM2-135M is a chat model, not an embedding model: its mean-pooled vectors put
unrelated English sentences around 0.7 cosine, paraphrases around 0.9. These tests check the
order (a paraphrase beats an unrelated sentence) and print the numbers, not absolute quality.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from evals_kit import PROTO
from fakeserver import FakeOpenAI, Reply

from app.core.document import parse_prototype
from app.core.evals.assertions import Graders, cosine, grade
from app.core.prototype import Assertion
from app.engine.evals import EvalOptions, EvalRunner
from app.providers.hub import ProviderHub
from app.providers.local_model import LocalModel
from app.providers.model_files import LOCAL_MODEL_ID

pytestmark = pytest.mark.integration

REFERENCE = "The cat is sleeping on the warm windowsill."
PARAPHRASE = "A cat naps on the sunny window ledge."
UNRELATED = "Quarterly tax filings are due in April."


@pytest.fixture(scope="module")
def local() -> Iterator[LocalModel]:
    model = LocalModel()
    yield model
    model.shutdown()


def test_paraphrase_scores_higher_than_unrelated(local: LocalModel) -> None:
    async def go() -> list[list[float]]:
        hub = ProviderHub(local=local)
        try:
            return await hub.embed("local", LOCAL_MODEL_ID, [REFERENCE, PARAPHRASE, UNRELATED])
        finally:
            await hub.aclose()

    ref, para, other = asyncio.run(go())
    near, far = cosine(ref, para), cosine(ref, other)
    print(f"\nbundled SmolLM2 embeddings ({len(ref)} dims): paraphrase {near:.3f}, unrelated {far:.3f}")
    assert near > far
    assert near - far > 0.05

    async def embed(texts: object) -> list[list[float]]:
        table = {REFERENCE: ref, PARAPHRASE: para, UNRELATED: other}
        return [table[str(t)] for t in texts]  # type: ignore[attr-defined]

    result = asyncio.run(grade(Assertion(type="similar", value=REFERENCE), PARAPHRASE, Graders(embed=embed)))
    assert result.passed, result.reason


def test_runner_defaults_to_the_bundled_embedder(local: LocalModel, fake_server: FakeOpenAI) -> None:
    proto = parse_prototype(PROTO.format(base_url=fake_server.base_url))
    proto.default_assert = [
        Assertion(type="similar", value=REFERENCE),
        Assertion(type="not-similar", value=UNRELATED),
    ]
    for case in proto.cases:
        case.assert_.clear()
    fake_server.default = Reply(text=PARAPHRASE)

    async def go() -> list[str]:
        hub = ProviderHub(local=local)
        try:
            outcome = await EvalRunner(hub).run(proto, EvalOptions(profiles=["bullets"], models=["fake"]))
        finally:
            await hub.aclose()
        return [a.reason for r in outcome.eval_run.results for a in r.assertions if a.passed] + [
            "FAILED " + a.reason for r in outcome.eval_run.results for a in r.assertions if not a.passed
        ]

    reasons = asyncio.run(go())
    print("\n" + "\n".join(reasons))
    assert not [r for r in reasons if r.startswith("FAILED")], reasons
    assert not [r for r in fake_server.requests if r.path.endswith("/embeddings")]  # the local child embedded
