from __future__ import annotations

from app.core.prototype import Run
from app.core.run_words import asks_for_longer_timeout, failure_words, progress_words


def _run(status: str, error: str | None = None, output: str = "") -> Run:
    return Run(id="r1", created="2026-01-01T00:00:00Z", case="c", profile="p", model="m", status=status,
               error=error, output=output)


def test_progress_while_running_and_after_stop() -> None:
    assert progress_words(8, 16, running=True) == "8 of 16 done"
    assert progress_words(8, 16, failed=1, running=True) == "8 of 16 done · 1 failed"
    assert progress_words(16, 16, cancelled=4, running=False) == "12 done, 4 cancelled"
    assert progress_words(16, 16, failed=2, cancelled=4, running=False) == "10 done, 2 failed, 4 cancelled"
    assert progress_words(10, 16, cancelled=1, running=False) == "9 done, 1 cancelled, 6 not started"
    assert progress_words(3, 3, running=False) == "3 done"


def test_cut_off_says_kept_once() -> None:
    said = failure_words(_run("cut", "x closed mid-answer; the partial answer is kept.", "Hello"))
    assert said.lower().count("partial answer") == 1
    assert said.startswith("The answer was cut off.")
    plain = failure_words(_run("cut", "stream ended", "Hello"))
    assert plain.lower().count("partial answer") == 1
    assert "kept" not in failure_words(_run("cut", "stream ended", ""))


def test_failed_shows_its_error_and_timeout_hint() -> None:
    run = _run("error", "vllm at h did not answer in time. Try again, or raise the timeout.")
    assert "did not answer in time" in failure_words(run)
    assert asks_for_longer_timeout(run)
    assert not asks_for_longer_timeout(_run("error", "401 unauthorized"))
    assert failure_words(_run("ok")) == ""


def test_source_word_says_failed_not_live_for_a_failed_cell() -> None:
    """A failed cell's status line read "Team gateway · live · ? tok", like a fresh answer."""
    from app.core.prototype import Run
    from app.core.run_words import source_word

    def run(**fields: object) -> Run:
        return Run(id="r", created="2026-01-01T00:00:00Z", case="c", profile="p", model="m",
                   **fields)  # type: ignore[arg-type]

    assert source_word(run()) == "live"
    assert source_word(run(cached=True)) == "cached"
    assert source_word(run(status="error", error="Could not reach it")) == "failed"
    assert source_word(run(status="cancelled")) == "stopped"
    assert source_word(run(status="cut", output="half")) == "cut off"
