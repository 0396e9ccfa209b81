"""Whisper's inventions are withheld; what a caller says is kept."""

from __future__ import annotations

from asr.hallucination import Decoded, judge


def _segment(text: str, no_speech: float = 0.05, logprob: float = -0.4, ratio: float = 0.8):
    return Decoded(text, no_speech, logprob, ratio)


def test_a_plain_request_is_kept_whole() -> None:
    said = [_segment("我家楼下的路灯坏了"), _segment("已经一个星期了")]
    assert judge(said, speech_s=3.0).kept == [0, 1]
    assert judge(said, speech_s=3.0).reason == ""


def test_the_hallucinations_seen_on_other_cpus_are_withheld() -> None:
    seen = [
        "我认识了你，我设计了你，我许你设了你，我训练了你，我记讯。",
        "再次再次，再次，再次，再次，再次",
        "我以为你对我爱你，我以为你对我爱你，我以为你对我爱你",
    ]
    for text in seen:
        verdict = judge([_segment(text)], speech_s=0.2)
        assert verdict.kept == [], text


def test_one_short_phrase_over_and_over_is_repetition() -> None:
    assert judge([_segment("要不要")] * 5, speech_s=4.0).reason == "repetition"
    assert judge([_segment("对对对对对对对对")], speech_s=4.0).reason == "repetition"
    assert judge([_segment("喂喂喂")], speech_s=1.0).kept == [0]  # a short greeting stays


def test_more_characters_than_the_speech_could_carry() -> None:
    long = _segment("请问市民中心的办事窗口周末几点开门需要带什么材料")
    assert judge([long], speech_s=4.0).kept == [0]
    assert "characters for 0.50 s" in judge([long], speech_s=0.5).reason


def test_whispers_own_signals_drop_a_segment() -> None:
    said = _segment("我要投诉噪音")
    guess = _segment("证证认证", no_speech=0.7, logprob=-1.2)
    assert judge([said, guess], speech_s=3.0).kept == [0]
    assert judge([_segment("证证认证", logprob=-1.6)], speech_s=3.0).reason == "low confidence"
    assert judge([_segment("好的好的", ratio=3.1)], speech_s=3.0).reason == "repetition"
    # a confident segment with a high no-speech probability alone is speech
    assert judge([_segment("好的", no_speech=0.8, logprob=-0.3)], speech_s=1.0).kept == [0]


def test_subtitle_credits_learned_from_video_are_withheld() -> None:
    for text in ("字幕由Amara.org社区提供", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"):
        assert judge([_segment(text)], speech_s=5.0).reason == "subtitle credits"
