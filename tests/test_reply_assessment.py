"""verification.reply_assessment: hand-written complaints and replies; properties and
bounds, not exact figures (the figures on real replies are bench/reply_assessment.py's)."""

from __future__ import annotations

import pytest

from verification import (
    REASON_CODES,
    IdfTable,
    PhrasesError,
    ReplyAssessor,
    assess_reply,
    load_phrases,
    parse_phrases,
)

NOISE = "投诉华景新城小区门口每天晚上10点以后有烧烤摊，油烟很大，吵得睡不着，希望城管处理。"
SUBSTANTIVE = (
    "您好！经核实，您反映的华景新城小区门口夜间烧烤摊油烟扰民问题属实。5月12日晚上10点，"
    "我局执法人员到现场检查，依据《城市市容和环境卫生管理条例》第十四条责令摊主停止占道经营，"
    "暂扣烧烤炉具2台，罚款200元。目前该处已恢复正常，每晚22时至24时安排巡查，防止反弹。"
)
BOILERPLATE = "您好，您反映的问题已转交相关部门处理，我们将加强管理。感谢您对我们工作的支持！"
OTHER_PLACE = (
    "您好，关于阳光花园小区路面破损的问题，我局已于3月2日安排施工队修复路面坑洼，现已完工。"
)
SOCIAL_SECURITY = (
    "您好！关于社保卡补办，请携带身份证到就近的社保经办网点办理，依据《社会保障卡管理办法》"
    "第十二条，补卡工本费20元，7个工作日内制卡完成。"
)
PROMISE = "您好，关于华景新城小区门口烧烤油烟扰民的问题，我们将尽快组织执法人员处理。"
DATED = "您好，关于华景新城小区门口烧烤油烟扰民的问题，我局将于6月30日前组织执法人员整治完毕。"


def codes(complaint: str, reply: str, **kwargs: object) -> set[str]:
    return set(assess_reply(complaint, reply, **kwargs).codes)  # type: ignore[arg-type]


def test_a_substantive_reply_scores_higher_than_boilerplate_for_the_same_complaint() -> None:
    good = assess_reply(NOISE, SUBSTANTIVE)
    bad = assess_reply(NOISE, BOILERPLATE)
    assert good.score > bad.score + 0.4
    assert not good.flag
    assert bad.flag
    assert {"boilerplate", "no_action", "no_result", "no_legal_basis"} <= set(bad.codes)
    assert good.signals.concreteness > bad.signals.concreteness
    assert good.signals.relevance > bad.signals.relevance


def test_boilerplate_reason_quotes_the_phrases_in_chinese() -> None:
    reason = next(r for r in assess_reply(NOISE, BOILERPLATE).reasons if r.code == "boilerplate")
    assert "已转交相关部门处理" in reason.text
    assert "套话" in reason.text


def test_a_reply_about_another_place_is_flagged_off_topic_with_the_places_named() -> None:
    result = assess_reply(NOISE, OTHER_PLACE)
    assert result.flag
    assert "off_topic" in result.codes
    assert result.score < assess_reply(NOISE, SUBSTANTIVE).score
    mismatch = next(r for r in result.reasons if r.code == "place_mismatch")
    assert "阳光花园" in mismatch.text and "华景新城小区" in mismatch.text


def test_a_reply_about_another_matter_is_off_topic() -> None:
    result = assess_reply(NOISE, SOCIAL_SECURITY)
    assert result.flag
    assert "off_topic" in result.codes
    assert result.signals.relevance < 0.35
    # the same reply answers its own question well
    own = assess_reply("我的社保卡丢了，怎么补办？要多少钱，多久能拿到？", SOCIAL_SECURITY)
    assert not own.flag
    assert own.score > result.score + 0.3


def test_the_complaints_place_missing_from_the_reply_is_named() -> None:
    reply = "您好，经现场核查，烧烤摊已于5月12日取缔，油烟问题已解决，执法人员每晚巡查。"
    reason = next(r for r in assess_reply(NOISE, reply).reasons if r.code == "place_not_addressed")
    assert "华景新城小区" in reason.text
    assert "place_not_addressed" not in codes(NOISE, SUBSTANTIVE)


def test_the_complaints_time_of_day_is_looked_for() -> None:
    assert "time_not_addressed" in codes(NOISE, BOILERPLATE)
    assert "time_not_addressed" not in codes(NOISE, SUBSTANTIVE)
    assert assess_reply(NOISE, SUBSTANTIVE).signals.times == 1.0


def test_a_promise_without_a_date_is_named_and_one_with_a_date_is_not() -> None:
    promised = assess_reply(NOISE, PROMISE)
    reason = next(r for r in promised.reasons if r.code == "promise_without_date")
    assert "尽快" in reason.text
    assert promised.flag  # nothing done, only promised
    dated = assess_reply(NOISE, DATED)
    assert "promise_without_date" not in dated.codes
    assert dated.score >= promised.score


def test_formulas_are_not_promises() -> None:
    reply = "网友您好！现将有关情况回复如下：经核查，该摊点已于5月12日取缔，已将此处纳入日常巡查。"
    assert "promise_without_date" not in codes(NOISE, reply)


def test_a_caller_who_complained_again_about_the_same_thing() -> None:
    later = ["华景新城小区门口的烧烤摊晚上还在摆，油烟还是很大，上次投诉根本没人管。"]
    result = assess_reply(NOISE, SUBSTANTIVE, later_complaints=later)
    assert result.flag
    reason = next(r for r in result.reasons if r.code == "complained_again")
    assert "1次" in reason.text
    assert result.signals.again is not None and result.signals.again >= 0.3
    unrelated = ["我想咨询一下社保卡丢了怎么补办。"]
    other = assess_reply(NOISE, SUBSTANTIVE, later_complaints=unrelated)
    assert "complained_again" not in other.codes
    assert not other.flag
    assert "complained_again" in codes(NOISE, SUBSTANTIVE, later_complaints=later * 2)
    twice = assess_reply(NOISE, SUBSTANTIVE, later_complaints=later * 2)
    assert "2次" in next(r.text for r in twice.reasons if r.code == "complained_again")


@pytest.mark.parametrize("reply", ["", "   ", "\n\t ", None, 12345])
def test_an_empty_reply_scores_zero_and_is_flagged(reply: object) -> None:
    result = assess_reply(NOISE, reply)  # type: ignore[arg-type]
    assert result.score == 0.0
    assert result.flag
    assert result.codes == ("empty",)
    assert result.reasons[0].text == "答复为空"


def test_a_receipt_alone_is_too_short() -> None:
    result = assess_reply(NOISE, "网友：您好！留言已收悉")
    assert result.flag
    assert "too_short" in result.codes


@pytest.mark.parametrize(
    ("complaint", "reply"),
    [
        (NOISE, SUBSTANTIVE),
        (NOISE, BOILERPLATE),
        ("", SUBSTANTIVE),
        ("", ""),
        ("hello", "world"),
        ("🙂" * 40, "🙂" * 40),
        (NOISE * 400, SUBSTANTIVE * 300),  # very long letters
        ("A市A2区L6县", "A市"),
        ("((((*+?[", "]\\d{99}"),
        (NOISE, "x" * 50_000),
        (NOISE, NOISE),  # a reply that repeats the complaint
    ],
)
def test_score_is_within_bounds_and_reasons_are_known(complaint: str, reply: str) -> None:
    result = assess_reply(complaint, reply)
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.flag, bool)
    assert all(r.code in REASON_CODES and r.text for r in result.reasons)
    order = list(REASON_CODES)
    assert [order.index(c) for c in result.codes] == sorted(order.index(c) for c in result.codes)
    assert len(result.codes) == len(set(result.codes))
    data = result.as_dict(signals=True)
    assert set(data) == {"score", "flag", "reasons", "signals"}
    assert all(v is None or 0.0 <= v <= 1.0 for v in result.signals.as_dict().values())


def test_repeating_the_complaint_is_not_an_answer() -> None:
    assert assess_reply(NOISE, NOISE).score < assess_reply(NOISE, SUBSTANTIVE).score


def test_an_assessor_with_a_citys_own_idf_table() -> None:
    idf = IdfTable.from_texts([NOISE, SUBSTANTIVE, BOILERPLATE, OTHER_PLACE, SOCIAL_SECURITY])
    assessor = ReplyAssessor(idf)
    assert idf("烧烤") > 0
    good = assessor.assess(NOISE, SUBSTANTIVE)
    bad = assessor.assess(NOISE, SOCIAL_SECURITY)
    assert good.score > bad.score
    assert assess_reply(NOISE, SUBSTANTIVE, assessor=assessor).score == good.score


def test_the_shipped_phrases_load_and_a_bad_file_names_its_key() -> None:
    phrases = load_phrases()
    assert "已转交相关部门处理" in phrases.boilerplate
    with pytest.raises(PhrasesError, match="boilerplate"):
        parse_phrases('formulas = ["您好"]\nboilerplate = "x"')
    with pytest.raises(PhrasesError, match="not valid TOML"):
        parse_phrases("formulas = [")
