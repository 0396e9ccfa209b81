"""The 回访 survey as data: what the citizen hears, in which order, and what is
asked.

The fixed parts are prompts of the catalogue (``tts/catalogue.toml``, ids
``survey_*``), so a centre records its own voice; two parts are made for each
call: the introduction naming the day and the matter, and a short summary of the
department's answer (:func:`introduction`, :func:`answer_summary`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import cn2an

# The catalogue's survey prompts, in the order a complete survey plays them.
ASK_SOLVED = "survey_ask_solved"  # 1 已解决 / 2 未解决 / 3 部分解决
ASK_RATING = "survey_ask_rating"  # 5 非常满意 … 1 非常不满意
ASK_COMMENT = "survey_ask_comment"  # anything else, then hang up or press #
NOT_HEARD = "survey_not_heard"  # before a question is asked once more
THANKS = "survey_thanks"  # the end of a completed survey
SORRY = "survey_sorry"  # a wrong number, or a citizen who declines
UNCLEAR_BYE = "survey_unclear_bye"  # answers still not understood: a person will call
PROMPTS = (ASK_SOLVED, ASK_RATING, ASK_COMMENT, NOT_HEARD, THANKS, SORRY, UNCLEAR_BYE)

SUMMARY_AT_MOST = 80  # characters of the department's answer read to the citizen
MATTER_AT_MOST = 16


@dataclass(frozen=True, slots=True)
class SurveyScript:
    """Timings and choices of the survey call."""

    greeting_listen_s: float = 2.5  # the citizen's first 喂 (an announcement runs longer)
    machine_speech_ms: int = 4500  # one stretch of speech this long at once: a machine
    answer_listen_s: float = 7.0  # to answer a question, after it is asked
    comment_listen_s: float = 15.0  # the optional comment
    comment: bool = True  # ask for a comment at the end
    repeats: int = 1  # a question is asked once more on no input or an unclear answer


def spoken_date(day: date) -> str:
    """``2026-12-01`` → 十二月一日."""
    return f"{cn2an.an2cn(day.month)}月{cn2an.an2cn(day.day)}日"


def matter(summary: str, category_path: str = "") -> str:
    """A few words for what the citizen reported: the category's last level when
    the ticket has one (小区噪音), else the start of its summary."""
    if category_path:
        last = category_path.strip("/").split("/")[-1].strip()
        if last:
            return last[:MATTER_AT_MOST]
    words = re.split(r"[，。；！？,.;!?\s]", summary.strip(), maxsplit=1)[0]
    return words[:MATTER_AT_MOST]


def introduction(reported_on: date, what: str) -> str:
    """Who calls and why, e.g. 您好，这里是一二三四五热线，就您在十二月一日反映的
    小区噪音问题进行回访。"""
    what = what if what.endswith("问题") else f"{what}问题"
    return f"您好，这里是一二三四五热线，就您在{spoken_date(reported_on)}反映的{what}进行回访。"


def answer_summary(reply: str, department: str = "") -> str:
    """The department's answer, shortened to a sentence or two for the phone."""
    text = re.sub(r"\s+", "", reply)
    if not text:
        return ""
    if len(text) > SUMMARY_AT_MOST:
        cut = max(text.rfind(mark, 0, SUMMARY_AT_MOST) for mark in "。；！？")
        text = text[: cut + 1] if cut >= SUMMARY_AT_MOST // 3 else text[:SUMMARY_AT_MOST] + "。"
    who = department or "承办单位"
    return f"{who}答复：{text}"
