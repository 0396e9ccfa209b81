"""verification.survey_answers: keys and transcripts of 回访 survey calls as Whisper
writes them (fillers, punctuation, digits, a traditional character, Cantonese words)."""

from __future__ import annotations

from importlib import resources

import pytest

from tickets.model import Rating, Resolution
from tickets.verification_tasks import AnswerSource
from verification.survey_answers import (
    Answer,
    Interruption,
    SurveyWordsError,
    comment_disputes,
    interruption,
    interruptions,
    parse_survey_words,
    rating_answer,
    resolution_answer,
)

SHIPPED = resources.files("verification").joinpath("survey_words.toml").read_text("utf-8")


def resolution(text: str) -> Resolution | None:
    answer = resolution_answer(text=text)
    return None if answer is None else answer.value


def rating(text: str) -> Rating | None:
    answer = rating_answer(text=text)
    return None if answer is None else answer.value


def edited(old: str, new: str) -> str:
    assert SHIPPED.count(old) == 1, old
    return SHIPPED.replace(old, new)


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("digit", "expected"),
    [("1", Resolution.SOLVED), ("2", Resolution.UNSOLVED), ("3", Resolution.PARTLY)],
)
def test_a_resolution_key_gives_its_answer(digit: str, expected: Resolution) -> None:
    assert resolution_answer(digit) == Answer(expected, AnswerSource.KEY, digit)


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_a_rating_key_gives_its_score(score: int) -> None:
    answer = rating_answer(f" {score} ")
    assert answer == Answer(Rating.from_score(score), AnswerSource.KEY, str(score))


@pytest.mark.parametrize("digit", ["4", "7", "0", "*", "#", "12"])
def test_an_unknown_resolution_key_is_no_answer_even_with_clear_words(digit: str) -> None:
    assert resolution_answer(digit, "解决了") is None


@pytest.mark.parametrize("digit", ["6", "9", "0", "*", "#", "55"])
def test_an_unknown_rating_key_is_no_answer_even_with_clear_words(digit: str) -> None:
    assert rating_answer(digit, "非常满意") is None


def test_a_key_wins_over_the_words() -> None:
    assert resolution_answer("2", "解决了，谢谢") == Answer(
        Resolution.UNSOLVED, AnswerSource.KEY, "2"
    )
    assert rating_answer("1", "非常满意") == Answer(Rating.VERY_DISSATISFIED, AnswerSource.KEY, "1")


def test_a_blank_key_leaves_the_answer_to_the_words() -> None:
    answer = rating_answer("  ", "  嗯，还行吧。 ")
    assert answer == Answer(Rating.BASICALLY_SATISFIED, AnswerSource.VOICE, "嗯，还行吧。")


@pytest.mark.parametrize("text", [None, "", "   ", "嗯……", "喂？你好", "我想一下", "不知道"])
def test_nothing_or_no_answer_in_the_words_is_none(text: str | None) -> None:
    assert resolution_answer(text=text) is None
    assert rating_answer(text=text) is None


# --------------------------------------------------------------------------- question 1


@pytest.mark.parametrize(
    "text",
    [
        "解决了",
        "嗯，已经解决了，谢谢。",
        "搞定了啊",
        "那个，弄好了",
        "处理好了，谢谢你们",
        "處理好了",  # traditional
        "修好了，现在没问题了",
        "是的",
        "对，对的",
        "系啊",  # Cantonese yes
        "搞掂咗",  # Cantonese 搞定了
        "之前没人管，现在解决了",
    ],
)
def test_the_citizen_says_it_was_solved(text: str) -> None:
    assert resolution(text) == Resolution.SOLVED


@pytest.mark.parametrize(
    "text",
    [
        "还没有",
        "没有。",
        "啊？没有解决啊",
        "没解决",
        "还是老样子",
        "根本没人管！",
        "没人来，一直没人来",
        "還沒解決",  # traditional
        "冇人理",  # Cantonese
        "还没弄好",
        "有人来看了，但是还没修好",
        "修好了，但是又坏了",
        "解决不了，他们说不归他们管",
    ],
)
def test_the_citizen_says_it_was_not_solved(text: str) -> None:
    assert resolution(text) == Resolution.UNSOLVED


@pytest.mark.parametrize(
    "text",
    [
        "解决了一部分",
        "部分解决吧",
        "还有一些没弄好",
        "嗯，解决了，不过还有一点没修好",
        "没有完全解决",
        "还没有完全解决",
        "一部份吧",  # the variant 部份
        "基本解决了，还有点问题",
    ],
)
def test_the_citizen_says_it_was_partly_solved(text: str) -> None:
    assert resolution(text) == Resolution.PARTLY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第一个", Resolution.SOLVED),
        ("1", Resolution.SOLVED),
        ("一吧", Resolution.SOLVED),
        ("选二", Resolution.UNSOLVED),
        ("我按2", Resolution.UNSOLVED),
        ("第三个吧", Resolution.PARTLY),
        ("三", Resolution.PARTLY),
    ],
)
def test_a_spoken_key_answers_the_resolution(text: str, expected: Resolution) -> None:
    assert resolution(text) == expected


def test_a_numeral_inside_a_word_is_no_key() -> None:
    assert resolution("一部分") == Resolution.PARTLY  # not key 1
    assert resolution("一直没解决") == Resolution.UNSOLVED
    assert resolution("五") is None  # no such key


def test_negated_resolutions() -> None:
    assert resolution("没处理好") == Resolution.UNSOLVED
    assert resolution("不是没解决") is None  # says nothing clear
    assert resolution("修好了，又坏了") is None  # disagreeing words, nothing to settle them


def test_a_voice_answer_keeps_the_words_heard() -> None:
    answer = resolution_answer(text=" 嗯，搞定了。 ")
    assert answer == Answer(Resolution.SOLVED, AnswerSource.VOICE, "嗯，搞定了。")


# --------------------------------------------------------------------------- question 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("非常满意", Rating.VERY_SATISFIED),
        ("嗯，很满意啊", Rating.VERY_SATISFIED),
        ("特别满意！", Rating.VERY_SATISFIED),
        ("非常滿意", Rating.VERY_SATISFIED),  # traditional
        ("灰常满意", Rating.VERY_SATISFIED),  # h/f merged in a Cantonese accent
        ("好满意", Rating.VERY_SATISFIED),  # Cantonese 好 = very
        ("满意", Rating.SATISFIED),
        ("挺满意的", Rating.SATISFIED),
        ("比较满意吧", Rating.SATISFIED),
        ("还不错", Rating.SATISFIED),
        ("基本满意", Rating.BASICALLY_SATISFIED),
        ("还可以吧。", Rating.BASICALLY_SATISFIED),
        ("一般", Rating.BASICALLY_SATISFIED),
        ("呃……凑合吧", Rating.BASICALLY_SATISFIED),
        ("还行", Rating.BASICALLY_SATISFIED),
        ("麻麻哋", Rating.BASICALLY_SATISFIED),  # Cantonese so-so
        ("不满意", Rating.DISSATISFIED),
        ("不太满意", Rating.DISSATISFIED),
        ("不怎么满意啊", Rating.DISSATISFIED),
        ("唔满意", Rating.DISSATISFIED),  # Cantonese
        ("非常不满意", Rating.VERY_DISSATISFIED),
        ("很不满意！！", Rating.VERY_DISSATISFIED),
        ("太差了", Rating.VERY_DISSATISFIED),
        ("特别差，一点都不满意", Rating.VERY_DISSATISFIED),
    ],
)
def test_ratings_in_words(text: str, expected: Rating) -> None:
    assert rating(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("不满意", Rating.DISSATISFIED),  # never 满意
        ("没有不满意", Rating.SATISFIED),
        ("也没什么不满意的", Rating.SATISFIED),
        ("不是很满意", Rating.DISSATISFIED),
        ("不是特别满意", Rating.DISSATISFIED),
        ("不算满意", Rating.DISSATISFIED),
        ("谈不上满意", Rating.DISSATISFIED),
        ("不是很好", Rating.DISSATISFIED),
    ],
)
def test_negated_ratings(text: str, expected: Rating) -> None:
    assert rating(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五分", 5),
        ("打5分", 5),
        ("给五星", 5),
        ("５", 5),  # full-width
        ("就四吧", 4),
        ("四颗星", 4),
        ("三", 3),
        ("选二", 2),
        ("两分", 2),
        ("一分", 1),
        ("满意，打五分", 5),  # the score said wins over the words
    ],
)
def test_a_spoken_score_answers_the_rating(text: str, expected: int) -> None:
    assert rating(text) == Rating.from_score(expected)


def test_words_that_only_look_like_scores_are_not_scores() -> None:
    assert rating("五分钟就来了，满意") == Rating.SATISFIED
    assert rating("一般") == Rating.BASICALLY_SATISFIED  # not key 1
    assert rating("第一个") is None  # the first option named is 非常满意, not key 1


def test_a_contrast_settles_disagreeing_ratings() -> None:
    assert rating("还可以吧，不过说实话不太满意") == Rating.DISSATISFIED
    assert rating("满意，四分，不对，五分") is None  # two scores said


# --------------------------------------------------------------------------- interruptions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你打错了吧", Interruption.WRONG_PERSON),
        ("不是我，你找错人了", Interruption.WRONG_PERSON),
        ("我没有反映过什么问题啊", Interruption.WRONG_PERSON),
        ("我没打过12345", Interruption.WRONG_PERSON),
        ("唔系我喔", Interruption.WRONG_PERSON),
        ("转人工", Interruption.WANTS_HUMAN),
        ("我要跟人说，不想跟机器说", Interruption.WANTS_HUMAN),
        ("找接线员", Interruption.WANTS_HUMAN),
        ("轉人工", Interruption.WANTS_HUMAN),
        ("我现在没空", Interruption.NOT_NOW),
        ("不方便，在开车", Interruption.NOT_NOW),
        ("不需要回访了，谢谢", Interruption.DECLINES),
        ("不需要回访了", Interruption.DECLINES),
        ("别再打了", Interruption.DO_NOT_CALL),
        ("以后不要再打了，谢谢", Interruption.DO_NOT_CALL),
        ("你们烦不烦啊", Interruption.COMPLAINS_ABOUT_SURVEY),
        ("天天打电话，这是骚扰", Interruption.COMPLAINS_ABOUT_SURVEY),
    ],
)
def test_the_citizen_interrupts(text: str, expected: Interruption) -> None:
    assert interruption(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "您好，您拨打的电话暂时无法接通，请稍后再拨。Sorry, the number you dialed cannot be "
        "connected at the moment, please redial later.",
        "您拨打的用户已关机",
        "对不起，您拨打的电话不在服务区",
        "您拨打的电话正在通话中，请稍后再拨",
        "The subscriber you dialed is power off.",
        "请在提示音后留言，录音完毕请挂机",
        "您好，欢迎使用语音信箱",
        "中国移动来电提醒，我们将以短信方式通知机主",
        "您好，这里是秘书服务台",
        "您好，机主现在不方便接听电话，我是他的智能助理，有什么可以帮您转达的吗？",
        "您撥打的電話已關機",  # traditional
    ],
)
def test_answering_machines_and_carriers_announcements(text: str) -> None:
    assert interruption(text) == Interruption.ANSWERING_MACHINE


def test_an_emergency_is_the_projects_own_detection() -> None:
    assert interruption("救命啊，着火了") == Interruption.EMERGENCY
    assert interruption("屋里好大煤气味") == Interruption.EMERGENCY
    # call_routing sets a negated or past cue aside, and so does the survey
    assert interruption("没有着火，就是问题还没解决") is None
    assert interruption("上个月着火的事，现在解决了") is None


def test_the_most_urgent_interruption_wins() -> None:
    assert interruption("救命，快转人工，着火了") == Interruption.EMERGENCY
    assert interruption("打错了，别再打了") == Interruption.WRONG_PERSON
    assert interruption("烦不烦，别再打了") == Interruption.DO_NOT_CALL
    assert interruption("没空，你们烦不烦") == Interruption.NOT_NOW
    assert interruption("没空，也不需要回访") == Interruption.DECLINES


def test_every_interruption_heard_most_urgent_first() -> None:
    assert interruptions("没空，你们烦不烦") == (
        Interruption.NOT_NOW,
        Interruption.COMPLAINS_ABOUT_SURVEY,
    )
    assert interruptions("救命，快转人工，着火了") == (
        Interruption.EMERGENCY,
        Interruption.WANTS_HUMAN,
    )
    assert interruptions("满意") == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "满意",
        "解决了，谢谢",
        "没有不方便，你问吧",
        "你没打错",
        "不是我说，你们根本没人管",
        "我跟人说过了，还是没解决",
        "工地天天打桩的问题还没解决",
        "你们人工智能挺厉害",
    ],
)
def test_answers_are_no_interruption(text: str) -> None:
    assert interruption(text) is None


# --------------------------------------------------------------------------- the comment


@pytest.mark.parametrize(
    "text",
    [
        "还是没解决",
        "根本没人来过，回复是假的",
        "他们就是敷衍，走形式",
        "我要投诉他们",
        "态度很好，就是还有一点没修好",
        "不是很满意",
        "修好了又坏了",
        "嗯，沒人聯繫過我",  # traditional
        "一点用都没有",
    ],
)
def test_a_comment_that_disputes_the_result(text: str) -> None:
    assert comment_disputes(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "",
        "没什么问题",
        "挺好的，谢谢你们",
        "没有敷衍，挺负责的",
        "没有不满意",
        "之前没解决，现在好了，谢谢",
        "第二个问题我上次问过了",
        "上次投诉的事情已经处理好了",
    ],
)
def test_a_comment_that_does_not_dispute(text: str) -> None:
    assert comment_disputes(text) is False


# --------------------------------------------------------------------------- the word file


def test_a_centre_may_add_its_own_words() -> None:
    words = parse_survey_words(edited('"五星好评",', '"五星好评", "顶呱呱",'))
    assert rating_answer(text="顶呱呱", words=words) == Answer(
        Rating.VERY_SATISFIED, AnswerSource.VOICE, "顶呱呱"
    )
    assert rating_answer(text="顶呱呱") is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[text", "not valid TOML"),
        (edited('negated = "unsolved"', 'negated = "fixed"'), "resolution.solved.negated"),
        (edited('"第{n}个", "第{n}项",', '"第个", "第{n}项",'), "resolution.spoken_keys"),
        (edited('"基本满意", "基本上满意",', '"满意", "基本上满意",'), "basically_satisfied"),
        (edited('"满意", "挺满意",', '3, "挺满意",'), "rating.satisfied.words"),
        (edited("declines = [", "declined = ["), "interruption.declined"),
        (edited('"敷衍", "糊弄",', '"敷衍", "糊，弄",'), "comment.disputes"),
    ],
)
def test_a_bad_word_file_is_refused_naming_the_key(text: str, named: str) -> None:
    with pytest.raises(SurveyWordsError, match=named):
        parse_survey_words(text)
