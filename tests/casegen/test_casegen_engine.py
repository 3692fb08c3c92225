"""Generating through the engine: scripted replies from the fake server, faults, cancel, limits."""

from __future__ import annotations

import asyncio
import json

from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.casegen.proposals import GenerationResult
from app.core.casegen.reply import PROPOSAL_FORMAT
from app.core.document import parse_prototype
from app.core.prototype import ModelTarget, Prototype
from app.engine.casegen import (
    CaseGenerator,
    GenerationEvent,
    GenerationRequest,
    ProposalDropped,
    ProposalReceived,
    probe_target,
    resolve_target,
)
from app.engine.engine import Engine
from app.providers.hub import ProviderHub

from .kit import PROTO, proposal_reply, rule_of, seed_of


def _proto(server: FakeOpenAI) -> Prototype:
    return parse_prototype(PROTO.format(base_url=server.base_url))


def _generate(
    proto: Prototype, request: GenerationRequest, *, per_provider: int = 4, cancel_after: int | None = None
) -> tuple[GenerationResult, list[GenerationEvent]]:
    """Generate on a fresh loop with a real hub; with `cancel_after`, cancel once that many proposals came."""

    async def main() -> tuple[GenerationResult, list[GenerationEvent]]:
        hub = ProviderHub(timeout=10.0)
        generator = CaseGenerator(Engine(hub, per_provider=per_provider))
        events: list[GenerationEvent] = []
        result = GenerationResult()
        try:
            task = asyncio.create_task(generator.generate(proto, request, events.append, result))
            if cancel_after is not None:
                deadline = asyncio.get_running_loop().time() + 20
                while len(result.proposals) < cancel_after:
                    assert asyncio.get_running_loop().time() < deadline, "proposals never arrived"
                    await asyncio.sleep(0.01)
                generator.cancel()
            await asyncio.wait_for(task, 30)
            return result, events
        finally:
            await hub.aclose()

    return asyncio.run(main())


def test_proposals_parse_and_carry_their_probe(fake_server: FakeOpenAI) -> None:
    fake_server.responder = proposal_reply
    proto = _proto(fake_server)
    result, events = _generate(proto, GenerationRequest(count=6, model="fake", seed=10))
    assert result.requested == 6 and not result.failures and not result.duplicates
    assert sorted(p.index for p in result.proposals) == list(range(6))
    by_index = {p.index: p for p in result.proposals}
    assert by_index[0].rule_id == "open-for-drafts" and by_index[4].rule_id == "chat-for-small"
    assert by_index[4].kind == "boundary" and by_index[4].seed == 14
    assert by_index[0].user_message == "Write something about setting up a home recording studio cheaply."
    assert {p.model for p in result.proposals} == {"fake"} and result.seed == 10
    assert sum(isinstance(e, ProposalReceived) for e in events) == 6
    sent = fake_server.chat_requests()
    assert sorted(seed_of(r) for r in sent) == list(range(10, 16))
    assert {rule_of(r) for r in sent} == {"open-for-drafts", "chat-for-small", "polite"}
    assert all("response_format" not in (r.body or {}) for r in sent)  # vllm: not known to enforce it


def test_duplicates_of_cases_and_of_each_other_are_dropped(fake_server: FakeOpenAI) -> None:
    def replies(rec: Recorded) -> Reply:
        seed = seed_of(rec)
        text = {
            0: "Write a launch blog post about offline mode for our notes app!",  # = case `blog`
            1: "Explain the offside rule in football.",
            2: "Explain the offside rule in football please",
        }.get(seed, f"Unrelated request {seed}")
        return Reply(text=json.dumps({"description": "d", "user_message": text}))

    fake_server.responder = replies
    result, events = _generate(
        _proto(fake_server), GenerationRequest(count=3, model="fake", seed=0), per_provider=1
    )
    assert [p.user_message for p in result.proposals] == ["Explain the offside rule in football."]
    assert [(p.duplicate_of, p.seed) for p in result.duplicates] == [("blog", 0), ("proposal 2", 2)]
    assert result.duplicate_share == 2 / 3
    assert sum(isinstance(e, ProposalDropped) for e in events) == 2


def test_a_fault_mid_generation_keeps_the_proposals_so_far(fake_server: FakeOpenAI) -> None:
    def replies(rec: Recorded) -> Reply:
        seed = seed_of(rec)
        if seed == 2:
            return Reply(status=400, message="bad request")
        if seed == 3:
            return Reply(text="I cannot write JSON today.")
        if seed == 4:
            return Reply(text='{"description": "cut', fault="cut", cut_after=2)
        return proposal_reply(rec)

    fake_server.responder = replies
    result, _ = _generate(
        _proto(fake_server), GenerationRequest(count=6, model="fake", seed=0), per_provider=1
    )
    assert sorted(p.seed for p in result.proposals) == [0, 1, 5]
    assert len(result.failures) == 3
    assert any("model call failed" in line for line in result.failures)
    assert any("holds no JSON object" in line and "I cannot write JSON" in line for line in result.failures)


def test_cancel_keeps_what_arrived_and_stops_the_rest(fake_server: FakeOpenAI) -> None:
    def replies(rec: Recorded) -> Reply:
        return proposal_reply(rec) if seed_of(rec) < 2 else Reply(fault="hang")

    fake_server.responder = replies
    result, _ = _generate(
        _proto(fake_server), GenerationRequest(count=8, model="fake", seed=0), per_provider=2, cancel_after=2
    )
    assert result.cancelled
    assert sorted(p.seed for p in result.proposals) == [0, 1]
    assert not result.failures  # cancelled probes are not failures
    assert len(fake_server.chat_requests()) < 8  # queued probes were never sent


def test_generation_obeys_the_engines_per_provider_limit(fake_server: FakeOpenAI) -> None:
    def slow(rec: Recorded) -> Reply:
        reply = proposal_reply(rec)
        reply.ttft = 0.05
        return reply

    fake_server.responder = slow
    result, _ = _generate(
        _proto(fake_server), GenerationRequest(count=6, model="fake", seed=0), per_provider=2
    )
    assert len(result.proposals) == 6
    assert fake_server.max_in_flight == 2


def test_the_bundled_model_gets_the_proposal_schema_and_the_probe_seed() -> None:
    proto = parse_prototype("name: x\n")
    bundled = resolve_target(proto, None)
    assert (bundled.provider, bundled.base_url) == ("local", None)
    target = probe_target(bundled, 17)
    assert target.params.response_format == PROPOSAL_FORMAT and target.params.seed == 17
    assert target.params.temperature is not None and target.params.max_tokens is not None
    hosted = probe_target(ModelTarget(id="h", provider="vllm", model="m", base_url="http://h:1/v1"), 1)
    assert hosted.params.response_format is None
    own = ModelTarget(id="o", provider="openai", model="gpt", params={"temperature": 0.2})
    assert probe_target(own, 1).params.temperature == 0.2
