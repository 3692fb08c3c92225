"""The voice preview's speech is real sound: espeak-ng, with the preview's own arguments, writes a
WAV that is neither empty nor silent and lasts about as long as the core's estimate."""

from __future__ import annotations

import array
import math
import subprocess
import wave
from pathlib import Path

import pytest
from preview_kit import VOICE

from app.core.formfactors import speaking_seconds, spoken_text
from app.ui.previews.speech import espeak_arguments, espeak_path

pytestmark = pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is not installed")


def test_the_spoken_reply_is_audible_and_lasts_about_the_estimate(tmp_path: Path) -> None:
    text = spoken_text(VOICE)
    wav = tmp_path / "voice.wav"
    program = espeak_path()
    assert program is not None
    subprocess.run([program, *espeak_arguments(wav)], input=text.encode("utf-8"), check=True,
                   capture_output=True, timeout=60)
    with wave.open(str(wav)) as audio:
        assert audio.getsampwidth() == 2
        rate, frames = audio.getframerate(), audio.readframes(audio.getnframes())
    samples = array.array("h", frames)
    assert samples, "no audio written"
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert rms > 300, f"speech is near-silent (RMS {rms:.0f})"
    seconds = len(samples) / rate
    estimate = speaking_seconds(text)
    assert 0.5 * estimate < seconds < 2 * estimate, (seconds, estimate)


def test_silence_is_recognised_as_silence(tmp_path: Path) -> None:
    """The check above can fail: an empty text gives (near) no audio."""
    wav = tmp_path / "empty.wav"
    program = espeak_path()
    assert program is not None
    subprocess.run([program, *espeak_arguments(wav)], input=b" ", check=True, capture_output=True, timeout=60)
    with wave.open(str(wav)) as audio:
        samples = array.array("h", audio.readframes(audio.getnframes()))
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0
    assert rms <= 300
