"""The child process of :mod:`tts.pyttsx`: ``python -m tts.pyttsx_child``.

Reads ``{"path": ..., "text": ..., "voice": ..., "words_per_minute": ...}`` on
stdin, speaks the text into the WAV file ``path`` with pyttsx3's ``espeak``
driver, and prints one JSON line: ``{"ok": true, "voice_id": ...}`` or
``{"ok": false, "unavailable": bool, "error": ...}``.

One child speaks one utterance.  pyttsx3 2.99's ``runAndWait`` returns before
libespeak-ng (initialised in its asynchronous mode) has finished, so the child
waits for "finished-utterance"; a second utterance in the same engine was seen
to come out empty now and then, and to differ from the ``espeak-ng`` program,
while a fresh engine's first utterance is the program's output sample for
sample.  Only the standard library is imported here, to start quickly.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UTTERANCE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class VoiceInfo:
    """A voice as pyttsx3 lists it."""

    id: str
    name: str
    languages: tuple[str, ...]


def find_voice(voices: Iterable[VoiceInfo], wanted: str) -> str:
    """The pyttsx3 voice id for ``wanted`` (``cmn-latn-pinyin`` → ``sit/cmn-latn-pinyin``).

    Tried in order: the id itself, the id's last part (espeak-ng's voice name),
    the descriptive name, a language code.  ``+variant`` (e.g. ``+f3``) is kept.
    ``LookupError`` names the Mandarin voices there are.
    """
    base, plus, variant = wanted.strip().lower().partition("+")
    voices = list(voices)
    rules = (
        lambda v: v.id.lower() == base,
        lambda v: v.id.lower().rsplit("/", 1)[-1] == base,
        lambda v: v.name.lower() == base,
        lambda v: base in (language.lower() for language in v.languages),
    )
    for rule in rules:
        for voice in voices:
            if rule(voice):
                return voice.id + plus + variant
    mandarin = sorted(v.id.rsplit("/", 1)[-1] for v in voices if "cmn" in v.id)
    raise LookupError(
        f"pyttsx3 (libespeak-ng) has no voice {wanted!r}; install espeak-ng-data or set "
        f"prompts.voice to one of: {', '.join(mandarin) or 'cmn-latn-pinyin'}"
    )


def speak(request: dict[str, Any]) -> dict[str, Any]:
    """Speak ``request["text"]`` into ``request["path"]``; the reply as a dict."""
    try:
        import pyttsx3

        engine = pyttsx3.init("espeak")
        listed = engine.getProperty("voices")
    except Exception as exc:  # noqa: BLE001 - any failure to load means: use another backend
        error = f"cannot load pyttsx3/libespeak-ng: {type(exc).__name__}: {exc}"
        return {"ok": False, "unavailable": True, "error": error}
    voices = [
        VoiceInfo(str(v.id), str(v.name), tuple(str(x) for x in (v.languages or ())))
        for v in listed
    ]
    try:
        voice_id = find_voice(voices, str(request["voice"]))
    except LookupError as exc:
        return {"ok": False, "unavailable": False, "error": str(exc)}
    # libespeak-ng runs in its asynchronous mode here: runAndWait returns while
    # the library's thread is still synthesizing, and the WAV is written when it
    # reports the end of the message ("finished-utterance").
    finished = threading.Event()
    engine.connect("finished-utterance", lambda **_: finished.set())
    engine.setProperty("voice", voice_id)
    engine.setProperty("rate", int(request["words_per_minute"]))
    path = Path(request["path"])
    engine.save_to_file(str(request["text"]), str(path))
    engine.runAndWait()
    if not finished.wait(UTTERANCE_TIMEOUT_S) or not path.exists():
        return {"ok": False, "unavailable": True, "error": "pyttsx3 wrote no audio"}
    return {"ok": True, "voice_id": voice_id}


def main() -> None:
    request = json.load(sys.stdin)
    with contextlib.redirect_stdout(sys.stderr):  # pyttsx3 prints "Audio saved to ..."
        reply = speak(request)
    print(json.dumps(reply, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
