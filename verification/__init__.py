"""回访 and 好差评 (callback verification) — pure logic.

So far: the assessment of a department's reply (答复) before the centre closes the
ticket, to catch 形式办结 (:mod:`verification.reply_assessment`)."""

from verification.reply_assessment import (
    REASON_CODES,
    Reason,
    ReplyAssessment,
    ReplyAssessor,
    ReplySignals,
    assess_reply,
)
from verification.reply_phrases import Phrases, PhrasesError, load_phrases, parse_phrases
from verification.reply_text import IdfTable, builtin_idf

__all__ = [
    "REASON_CODES",
    "IdfTable",
    "Phrases",
    "PhrasesError",
    "Reason",
    "ReplyAssessment",
    "ReplyAssessor",
    "ReplySignals",
    "assess_reply",
    "builtin_idf",
    "load_phrases",
    "parse_phrases",
]
