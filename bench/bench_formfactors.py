"""Form-factor transforms: time per reply, typical and hostile, so a preview can run them per cell.

Prints the median time of `spoken_text`, `voice_flags`, `notification_preview`, `canvas_opened`
and the three form-factor assertions on: a typical 150-word markdown reply, a 20 KB reply, and
inputs shaped to make regular expressions backtrack (long whitespace runs, many `**`, long
URL-like tokens, long unclosed `[`).

    PYTHONPATH=$PWD python bench/bench_formfactors.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

from app.core.evals.assertions import grade
from app.core.formfactors import canvas_opened, notification_preview, spoken_text, voice_flags
from app.core.prototype import Assertion

TYPICAL = """# Your trip to **Paris** 🇫🇷

Here is a plan for three days, with the [train times](https://sncf.com) and a budget.
- Day 1: the Louvre, then a walk along the Seine to Notre-Dame 🚶
- Day 2: Montmartre in the morning; see https://example.com/montmartre for the tour.
- Day 3: the Musée d'Orsay and a dinner cruise.

| day | cost |
|---|---|
| 1 | 40 € |
| 2 | 25 € |

Book the museums online: queues in summer are long, and a timed ticket saves an hour or more
on each visit, which matters when you only have three days to see the city and its sights.
"""

INPUTS: dict[str, str] = {
    "typical 150 words": TYPICAL,
    "20 KB reply": TYPICAL * (20_000 // len(TYPICAL)),
    "20 KB of spaces": " " * 20_000,
    "20 KB of **": "**a" * 6_700,
    "20 KB URL-like token": "https://" + "a." * 10_000,
    "20 KB of [": "[" * 20_000,
    "20 KB of | and -": "|-" * 10_000,
    "20 KB of www.": "www." * 5_000,
    "20 KB of [a](": "[a](" * 5_000,
    "20 KB of <a": "<a" * 10_000,
    "20 KB of backticks": "`" * 20_000,
    "heading, 20 KB spaces": "# a" + " " * 20_000 + "b",
    "spaces, then |": " " * 20_000 + "|",
}


def median_ms(fn: Callable[[], object], budget_s: float = 0.5) -> float:
    """Median of repeated calls within a time budget (at least 3)."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if len(times) >= 200:
            break
    return statistics.median(times) * 1000


def main() -> None:
    assertions = [
        Assertion(type="voice-friendly"),
        Assertion(type="fits-notification", value={"platform": "all", "phrase": "Paris"}),
        Assertion(type="canvas-opened"),
    ]

    def grade_all(text: str) -> None:
        async def run() -> None:
            await asyncio.gather(*(grade(a, text) for a in assertions))

        asyncio.run(run())

    print(f"{'input':<24}{'spoken_text':>13}{'voice_flags':>13}{'notification':>14}"
          f"{'canvas':>9}{'3 asserts':>11}   (ms, median)")
    for name, text in INPUTS.items():
        row = [
            median_ms(lambda t=text: spoken_text(t)),
            median_ms(lambda t=text: voice_flags(t)),
            median_ms(lambda t=text: notification_preview(t, "android-expanded")),
            median_ms(lambda t=text: canvas_opened(t)),
            median_ms(lambda t=text: grade_all(t)),
        ]
        print(f"{name:<24}{row[0]:>13.3f}{row[1]:>13.3f}{row[2]:>14.3f}{row[3]:>9.3f}{row[4]:>11.3f}")


if __name__ == "__main__":
    main()
