"""Music on hold: a soft, slow chime rendered once into the prompts folder.

Synthesized rather than shipped, so no licence question arises; an operator who
wants their own puts a recorded ``hold_music`` entry in the prompt catalogue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tts.wav import mono_wav_bytes, write_wav

# A pentatonic phrase (Hz) and each note's length (s); about 12 s round.
_PHRASE = (
    (523.25, 0.8),
    (659.25, 0.8),
    (783.99, 1.2),
    (659.25, 0.8),
    (587.33, 1.6),
    (523.25, 0.8),
    (440.00, 0.8),
    (523.25, 1.2),
    (587.33, 0.8),
    (523.25, 1.6),
)
_REST_S = 1.6


def hold_music(sample_rate: int) -> np.ndarray:
    """The phrase as 16-bit-range float samples, quiet (about −20 dBFS), ending in a rest."""
    notes = []
    for freq, length in _PHRASE:
        t = np.arange(int(sample_rate * length)) / sample_rate
        envelope = np.exp(-3.0 * t / length) * np.minimum(1.0, t / 0.02)
        tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
        notes.append(3000.0 * envelope * tone)
    notes.append(np.zeros(int(sample_rate * _REST_S)))
    return np.concatenate(notes).astype(np.float32)


def write_hold_music(path: Path, sample_rate: int) -> Path:
    """Write the hold music as a WAV at ``sample_rate`` unless it is there already."""
    if not path.exists():
        write_wav(path, mono_wav_bytes(hold_music(sample_rate), sample_rate, sample_rate))
    return path
