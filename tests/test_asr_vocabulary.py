"""The hotline's vocabulary for the recogniser: gathering it (taxonomy, place lists),
the hotwords it gives Whisper, recitals of them, mending near-homophones by pinyin;
and the biased recogniser on non-speech, real speech and a synthetic phone call."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from pydantic import ValidationError

from asr.audio import read_wav
from asr.engines import open_recognizer
from asr.homophones import Lexicon, fold
from asr.normalize import cer, for_scoring
from asr.vocabulary import (
    COMPLAINT_WORDS,
    Bias,
    Vocabulary,
    VocabularyError,
    prompt_terms,
    read_place_list,
    recites,
)
from asr.whisper import WhisperRecognizer
from ivr.node.asr_vocabulary import known_places, node_vocabulary
from sip_config import Settings
from sip_config.settings import AsrSection
from tests.support import nonspeech
from tests.support.nodes import SPEECH
from tests.support.nonspeech import NOT_SPEECH

TAXONOMY = """
request_types = ["咨询", "投诉"]
[domains."城乡建设"]
seat_group = "城建组"
departments = ["住房和城乡建设局", "城市管理和综合执法局"]
categories = [{ code = "1", name = "物业", words = ["物业"] }]
[domains."其他"]
seat_group = "综合组"
departments = ["政务服务数据管理局", "住房和城乡建设局"]
categories = [{ code = "9", name = "其他" }]
"""


# ---- gathering the vocabulary ------------------------------------------------------


def test_a_place_list_has_one_name_a_line_with_comments(tmp_path) -> None:
    places = tmp_path / "places.txt"
    places.write_text(
        "\ufeff# 天河区的街道\n石牌街道\n\n  五山街道  # 华工旁边\n石牌街道\n猎德社区\n",
        encoding="utf-8",
    )
    assert read_place_list(places) == ("石牌街道", "五山街道", "猎德社区")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("石牌街道 五山街道\n", "line 1: '石牌街道 五山街道' is not one place name"),
        ("# 天河\nShipai Street\n", "line 2: 'Shipai Street' is not one place name"),
        ("石牌街道\nabc123\n", "line 2: 'abc123' has no Chinese characters"),
        ("石牌街道，五山街道\n", "line 1: .* is not one place name"),
        ("天" * 21 + "\n", "longer than 20 characters"),
        ("# only comments\n\n", "lists no place names"),
    ],
)
def test_a_bad_place_list_is_refused_naming_file_line_and_fix(tmp_path, content, says) -> None:
    places = tmp_path / "places.txt"
    places.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=says) as refused:
        read_place_list(places)
    assert str(places) in str(refused.value)
    assert "one place name per line" in str(refused.value) or "cannot read" in str(refused.value)


def test_a_place_list_that_is_not_utf8_or_not_there_is_refused(tmp_path) -> None:
    places = tmp_path / "places.txt"
    places.write_bytes("石牌街道\n".encode("gbk"))
    with pytest.raises(VocabularyError, match="is not UTF-8 text"):
        read_place_list(places)
    with pytest.raises(VocabularyError, match="cannot read"):
        read_place_list(tmp_path / "missing.txt")


def test_the_node_gathers_departments_city_places_known_places_and_words(tmp_path) -> None:
    (tmp_path / "taxonomy.toml").write_text(TAXONOMY, encoding="utf-8")
    (tmp_path / "places.txt").write_text("石牌街道\n天河区\n", encoding="utf-8")
    settings = Settings.model_validate(
        {"routing": {"taxonomy": tmp_path / "taxonomy.toml", "places": tmp_path / "places.txt"}}
    )
    vocabulary = node_vocabulary(settings)
    assert vocabulary is not None
    assert vocabulary.departments == (
        "住房和城乡建设局",
        "城市管理和综合执法局",
        "政务服务数据管理局",
    )
    assert vocabulary.city_places == ("石牌街道", "天河区")
    terms = vocabulary.terms
    assert terms[:5] == (*vocabulary.departments, "石牌街道", "天河区")
    assert terms.count("天河区") == 1  # also a known place: once, where the city put it
    assert {"广州市", "番禺区", "广东省"} <= set(terms) and set(COMPLAINT_WORDS) <= set(terms)
    off = settings.model_copy(update={"asr": AsrSection(vocabulary=False)})
    assert node_vocabulary(off) is None


def test_the_shipped_taxonomy_gives_the_hotlines_departments() -> None:
    vocabulary = node_vocabulary(Settings())
    assert vocabulary is not None
    for name in (
        "住房和城乡建设局",
        "城市管理和综合执法局",
        "人力资源和社会保障局",
        "市场监督管理局",
    ):
        assert name in vocabulary.departments
    assert "天河区" in known_places() and "广州市" in known_places()


def test_a_bad_city_place_list_stops_the_node_with_its_line(tmp_path) -> None:
    (tmp_path / "places.txt").write_text("石牌街道\n石牌 街道\n", encoding="utf-8")
    settings = Settings.model_validate({"routing": {"places": tmp_path / "places.txt"}})
    with pytest.raises(VocabularyError, match="line 2"):
        node_vocabulary(settings)


def test_the_asr_settings_switch_and_bound_the_vocabulary() -> None:
    assert AsrSection().vocabulary and AsrSection().mend_homophones
    assert AsrSection().max_hotwords == 0  # hotwords cost ordinary speech accuracy: opt in
    assert AsrSection(max_hotwords=0).max_hotwords == 0
    for bad in (-1, 101):
        with pytest.raises(ValidationError, match="max_hotwords"):
            Settings.model_validate({"asr": {"max_hotwords": bad}})


# ---- the prompt --------------------------------------------------------------------

VOCABULARY = Vocabulary(
    departments=("生态环境局", "城市管理和综合执法局", "公安局"),
    city_places=("石牌街道", "五山街道"),
    known_places=("天河区", "广州市"),
    words=("噪音扰民",),
)


def test_hotwords_are_the_first_terms_within_count_and_tokens() -> None:
    bias = prompt_terms(VOCABULARY, max_hotwords=4)
    assert bias.hotwords == "生态环境局 城市管理和综合执法局 公安局 石牌街道"
    assert bias.terms == ("生态环境局", "城市管理和综合执法局", "公安局", "石牌街道")
    # a budget of 12 "tokens" (characters here): a term that does not fit is passed over
    tight = prompt_terms(VOCABULARY, max_hotwords=10, max_tokens=12)
    assert tight.terms == ("生态环境局", "公安局")
    assert tight.hotwords == "生态环境局 公安局"


def test_no_hotwords_is_no_prompt() -> None:
    assert not prompt_terms(VOCABULARY, max_hotwords=0)
    assert prompt_terms(VOCABULARY, 0).hotwords is None
    assert not prompt_terms(Vocabulary(), 24)


def test_a_recital_of_the_hotwords_is_told_from_speech() -> None:
    bias = prompt_terms(VOCABULARY, max_hotwords=10)
    assert recites("生态环境局、城市管理和综合执法局、公安局", bias)
    assert recites("石牌街道 五山街道 天河区", bias)
    assert recites("天河区 广州市", bias)  # Whisper writes no spaces in Mandarin speech
    assert not recites("我要投诉广州市天河区石牌街道的噪音，请转给生态环境局", bias)
    assert not recites("天河区，石牌街道", bias)  # two names in a row is an address
    assert not recites("我要投诉", bias)
    assert not recites("生态环境局、公安局、天河区", Bias())


# ---- mending near-homophones ---------------------------------------------------------

LEXICON = Lexicon(
    [
        "石牌街道",
        "天河区",
        "生态环境局",
        "城市管理和综合执法局",
        "人力资源和社会保障局",
        "天河",
        "城区",
    ]
)


def test_folded_pinyin_joins_guangdong_confusions() -> None:
    assert fold("zhang") == fold("zan") == "zan"
    assert fold("ning") == fold("lin") == "lin"
    assert fold("shi") == fold("si") and fold("cheng") == fold("cen")
    assert fold("hu") != fold("fu")


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("我要投诉天和区实派街道的噪音", "我要投诉天河区石牌街道的噪音"),
        ("请转给生太环境局", "请转给生态环境局"),  # tai (态) heard as tai (太)
        ("城市管理和综合治法局", "城市管理和综合执法局"),  # zhi/zi folded
        ("人力资源和社会保张局", "人力资源和社会保障局"),
        ("人力资源和社会包扎局", "人力资源和社会保障局"),  # one syllable off, most characters right
        ("我住在天河区石牌街道", "我住在天河区石牌街道"),  # already right
    ],
)
def test_near_homophones_of_terms_are_mended(heard: str, meant: str) -> None:
    text, mends = LEXICON.mend(heard)
    assert text == meant
    assert all(m.heard != m.term for m in mends) and (heard == meant) == (not mends)


@pytest.mark.parametrize(
    "said",
    [
        "广州市房地产中介协会分析",
        "甚至出现交易几乎停滞的情况",
        "一二线城市虽然也处于调整中",
        "我今天天和他去石排玩",  # 天和 is two characters: not a term to mend toward
        "添禾驱",  # a three-character homophone sharing no character: left alone
        "人力资源和社会主义国家",  # off in more than one syllable
        "",
    ],
)
def test_ordinary_words_are_left_as_they_are(said: str) -> None:
    assert LEXICON.mend(said) == (said, [])


def test_two_character_terms_are_never_mended_toward() -> None:
    assert "天河" not in LEXICON.terms and "城区" not in LEXICON.terms
    assert len(LEXICON) == 5


# ---- the biased recogniser -----------------------------------------------------------


@pytest.fixture(scope="module")
def plain() -> WhisperRecognizer:
    return WhisperRecognizer()


@pytest.fixture(scope="module")
def biased(plain) -> WhisperRecognizer:
    return plain.biased(node_vocabulary(Settings()), max_hotwords=24)


def test_the_biased_recogniser_has_a_short_prompt_and_every_term_to_mend(biased) -> None:
    assert biased.bias.terms[0] == "住房和城乡建设局" and 5 <= len(biased.bias.terms) <= 24
    assert len(biased.lexicon) > 150


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("sound", list(NOT_SPEECH))
@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_non_speech_gives_no_words_with_the_vocabulary_on(biased, sound, rate, quick) -> None:
    decode = biased.transcribe_quick if quick else biased.transcribe
    transcript = decode(NOT_SPEECH[sound](rate), rate)
    assert transcript.text == "" and transcript.segments == []
    assert transcript.withheld


def test_real_speech_keeps_its_words_and_its_accuracy_with_the_vocabulary_on(plain, biased) -> None:
    clip = "aishell1_BAC009S0724W0121_8k_ulaw_sim.wav"  # 广州市房地产中介协会分析
    samples, rate = read_wav(SPEECH / clip)
    said = "广州市房地产中介协会分析"
    unbiased, with_words = plain.transcribe(samples, rate), biased.transcribe(samples, rate)
    assert with_words.withheld == "" and len(with_words.text) >= 5
    assert cer(said, with_words.text) <= cer(said, unbiased.text) + 0.1


def test_speech_after_hold_music_is_transcribed_with_the_vocabulary_on(plain, biased) -> None:
    samples, rate = read_wav(SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav")
    held = np.concatenate([nonspeech.hold_music(rate, seconds=4.0), samples])
    said = "甚至出现交易几乎停滞的情况"
    heard = biased.transcribe(held, rate)
    # The music is not decoded and the speech after it is: its words come through.  Hotwords
    # cost ordinary speech a few characters (bench/asr_vocabulary.py: CER +1.6 to +4.7
    # points), and which ones varies from CPU to CPU, so the bound is on the whole sentence.
    assert heard.withheld == "" and len(heard.text) >= 8
    assert cer(said, heard.text) <= 0.4
    assert cer(said, plain.transcribe(held, rate).text) <= 0.3


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_a_synthetic_call_naming_a_department_is_heard_no_worse_biased(plain, biased) -> None:
    from bench.asr_vocabulary import RATE, telephone_speech

    said = "请问人力资源和社会保障局的电话是多少？我在天河区石牌街道。"
    names = ("人力资源和社会保障局", "天河区", "石牌街道")
    audio = telephone_speech(said)
    unbiased, with_words = plain.transcribe(audio, RATE), biased.transcribe(audio, RATE)

    def heard(text: str) -> int:
        return sum(name in for_scoring(text) for name in names)

    assert heard(with_words.text) >= heard(unbiased.text)
    assert cer(said, with_words.text) <= cer(said, unbiased.text) + 0.15
    assert with_words.text and with_words.withheld == ""


def test_the_engine_is_biased_only_when_asr_vocabulary_is_on() -> None:
    vocabulary = node_vocabulary(Settings())
    plain = AsrSection(engine="whisper", cpu_threads=1, decoders=1)
    mend = open_recognizer(plain, None, vocabulary)
    on = open_recognizer(
        AsrSection(engine="whisper", cpu_threads=1, decoders=1, max_hotwords=24), None, vocabulary
    )
    off = open_recognizer(
        AsrSection(engine="whisper", cpu_threads=1, decoders=1, vocabulary=False), None, vocabulary
    )
    few = open_recognizer(
        AsrSection(
            engine="whisper", cpu_threads=1, decoders=1, max_hotwords=3, mend_homophones=False
        ),
        None,
        vocabulary,
    )
    assert isinstance(mend, WhisperRecognizer) and not mend.bias and len(mend.lexicon) > 150
    assert isinstance(on, WhisperRecognizer) and on.bias and len(on.lexicon) > 150
    assert isinstance(off, WhisperRecognizer) and not off.bias and len(off.lexicon) == 0
    assert isinstance(few, WhisperRecognizer) and len(few.bias.terms) == 3
    assert len(few.lexicon) == 0
