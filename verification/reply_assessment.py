"""Automatic assessment of a department's reply (答复) to a citizen's complaint,
to help the centre's reviewer catch 形式办结: replies closed on paper that answer
nothing.

``assess_reply(complaint, reply, later_complaints=...)`` gives a
:class:`ReplyAssessment`: a ``score`` from 0 to 1 (how well the reply answers the
complaint), a ``flag`` (the reviewer should look closely) and the ``reasons``,
each with a stable machine ``code`` and a Simplified Chinese ``text`` for the
review page.  What is looked at:

- relevance: the complaint's key words (jieba words weighted like TF-IDF) found
  in the reply and the reply's found in the complaint; the complaint's places
  (小区, 路, 村… and A2区 codes) and times of day (夜间, 晚上10点);
- concreteness: actions taken (现场, 查处, 责令), results (已整改, 经核实), legal
  bases (依据《…》第X条), amounts and named units, against boilerplate (已转交相关部门,
  将加强管理) and formulas (您好, 留言已收悉);
- promises without a date (将/尽快/近期 + an action, no date or time limit);
- a caller who complained again about the same thing since (``later_complaints``).

The score is ``relevance × (1 - SUBSTANCE_WEIGHT + SUBSTANCE_WEIGHT × substance)``,
where relevance is ``1 - e^(-r / RELEVANCE_SCALE)`` of the geometric mean ``r``
of the two coverages (cut by ``OTHER_PLACE`` when the reply names only places
the complaint does not), and substance is the reply's concreteness scaled by its
length.  A reply is flagged on a hard reason (:data:`REASON_CODES`), on
promises without a date where nothing was done, or on a score under
``FLAG_BELOW``.  The constants were chosen on the even ``msg_id`` half of
the TipDM replies and measured on the odd half (``bench/reply_assessment.py``).

Pure and total: any strings (empty, whitespace, 100,000 characters, English,
emoji) give an assessment; no I/O beyond the phrase file and jieba's tables
read once, no clock.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from tickets.duplicates import similarity
from verification.reply_phrases import Phrases, load_phrases
from verification.reply_signals import ReplyContent, read_reply
from verification.reply_text import (
    IdfTable,
    builtin_idf,
    clean,
    covered,
    key_terms,
    mentions_place,
    places,
    specific,
    times,
    words,
)

RELEVANCE_SCALE = 0.1  # r = 0.1 → 0.63; r of own replies: median 0.27, of others': 90 % under 0.07
SUBSTANCE_WEIGHT = 0.5  # how much of the score concreteness and length can take away
OTHER_PLACE = 0.5  # r is multiplied by this when the reply's places are all elsewhere
OFF_TOPIC = 0.35  # relevance below this: the reply does not address the complaint
FLAG_BELOW = 0.35  # a score below this is flagged even without a hard reason
SHORT = 15  # characters of substance (formulas and boilerplate left out) below which: too short
FULL_LENGTH = 80  # characters of substance from which length no longer limits substance
BOILERPLATE_SHARE = 0.5  # boilerplate and formulas at least this share of a reply with…
BOILERPLATE_CUES = 2.0  # … fewer concrete cues than this: boilerplate
LOW_CONCRETENESS = 0.5  # below this the missing action, result and legal basis are named
AGAIN_SIMILARITY = 0.3  # a later complaint's character-bigram cosine to the complaint: same matter
AGAIN_TERMS = 0.35  # or: the two texts' key words found in each other (geometric mean)
PROMISE_PENALTY = 0.1  # substance lost per promise without a date (at most two)
PLACES_CHECKED = 5  # the complaint's first named places looked for in the reply
SHOWN = 3  # items quoted in a reason's text

# code → is it a hard reason (flags the reply whatever the score)?  Reasons are
# listed in this order, the weightiest first.
REASON_CODES: dict[str, bool] = {
    "empty": True,
    "off_topic": True,
    "place_mismatch": False,
    "complained_again": True,
    "too_short": True,
    "boilerplate": True,
    "promise_without_date": False,
    "place_not_addressed": False,
    "time_not_addressed": False,
    "no_action": False,
    "no_result": False,
    "no_legal_basis": False,
}
_ORDER = {code: n for n, code in enumerate(REASON_CODES)}


@dataclass(frozen=True)
class Reason:
    """Why a reply may be 形式办结: ``code`` is stable (one of :data:`REASON_CODES`),
    ``text`` is for the reviewer, in Simplified Chinese."""

    code: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class ReplySignals:
    """The measures behind a score, each 0 … 1 (``None``: nothing to compare).

    ``coverage``: the complaint's key words found in the reply; ``precision``: the
    reply's key words found in the complaint; ``relevance``: both, scaled;
    ``places``: the complaint's named places the reply mentions; ``times``: the
    same for times; ``concreteness``: actions, results, bases, amounts, units;
    ``substance``: concreteness scaled by length and lost to undated promises;
    ``boilerplate``: the share of the reply that is formula or boilerplate;
    ``again``: the most similar later complaint."""

    coverage: float = 0.0
    precision: float = 0.0
    relevance: float = 0.0
    places: float | None = None
    times: float | None = None
    concreteness: float = 0.0
    substance: float = 0.0
    boilerplate: float = 1.0
    again: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {k: (None if v is None else round(v, 4)) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ReplyAssessment:
    """How well a reply (答复) answers its complaint, for the centre's review."""

    score: float
    flag: bool
    reasons: tuple[Reason, ...] = ()
    signals: ReplySignals = field(default_factory=ReplySignals)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def as_dict(self, signals: bool = False) -> dict[str, object]:
        """``{"score", "flag", "reasons": [{"code", "text"}]}`` (and the signals)."""
        data: dict[str, object] = {
            "score": round(self.score, 4),
            "flag": self.flag,
            "reasons": [r.as_dict() for r in self.reasons],
        }
        if signals:
            data["signals"] = self.signals.as_dict()
        return data


@dataclass(frozen=True)
class _Complaint:
    text: str
    terms: dict[str, float]
    words: tuple[str, ...]
    places: tuple[str, ...]
    times: tuple[str, ...]


class ReplyAssessor:
    """Assesses replies with one IDF table and one phrase list (both read once).

    ``idf``: jieba's general table by default, or :meth:`IdfTable.from_texts` over
    a city's own complaints and replies.  The last complaint read is kept, so
    assessing several replies to one complaint reads it once."""

    def __init__(self, idf: IdfTable | None = None, phrases: Phrases | None = None) -> None:
        self.idf = idf or builtin_idf()
        self.phrases = phrases or load_phrases()
        self._last: _Complaint | None = None

    def assess(
        self, complaint: str, reply: str, *, later_complaints: Sequence[str] = ()
    ) -> ReplyAssessment:
        """Assess ``reply`` as the answer to ``complaint``; ``later_complaints`` are
        what the same caller said about the same matter since the reply."""
        asked = self._complaint(complaint)
        answer = clean(reply)
        again, again_reasons = self._again(asked, later_complaints)
        if not answer:
            reasons = (Reason("empty", "答复为空"), *again_reasons)
            return ReplyAssessment(0.0, True, reasons, ReplySignals(again=again))
        content = read_reply(answer, self.phrases)
        relevance, relevance_reasons = self._relevance(asked, answer)
        substance = _substance(content)
        signals = replace(
            relevance,
            concreteness=content.concreteness,
            substance=substance,
            boilerplate=content.boilerplate_share,
            again=again,
        )
        reasons = tuple(
            sorted(
                (*_content_reasons(content), *relevance_reasons, *again_reasons),
                key=lambda r: _ORDER[r.code],
            )
        )
        weight = SUBSTANCE_WEIGHT
        score = _clip(signals.relevance * (1.0 - weight + weight * substance))
        hard = any(REASON_CODES[r.code] for r in reasons)
        only_promised = bool(content.promises_without_date) and not (
            content.actions or content.results
        )
        flag = hard or only_promised or score < FLAG_BELOW
        return ReplyAssessment(score, flag, reasons, signals)

    def _complaint(self, text: str) -> _Complaint:
        cleaned = clean(text)
        last = self._last  # one read of the attribute: another thread may replace it
        if last is not None and last.text == cleaned:
            return last
        found = words(cleaned, self.phrases)
        last = _Complaint(
            cleaned,
            key_terms(found, self.idf),
            tuple(found),
            tuple(places(cleaned, self.phrases)),
            tuple(times(cleaned)),
        )
        self._last = last
        return last

    def _relevance(self, asked: _Complaint, answer: str) -> tuple[ReplySignals, list[Reason]]:
        """Coverage both ways, places and times; the reasons they give."""
        answer_words = words(answer, self.phrases)
        coverage = covered(asked.terms, answer, answer_words)
        precision = covered(key_terms(answer_words, self.idf), asked.text, asked.words)
        r = math.sqrt(coverage * precision)
        reasons = []
        named = [p for p in asked.places if specific(p)][:PLACES_CHECKED]
        said = [p for p in named if mentions_place(p, answer, self.phrases)]
        if named and not said:
            shown = "、".join(named[:SHOWN])
            own = [p for p in places(answer, self.phrases) if specific(p)]
            if own and not any(mentions_place(p, asked.text, self.phrases) for p in own):
                r *= OTHER_PLACE
                other = "、".join(own[:SHOWN])
                text = f"答复所述地点（{other}）与投诉地点（{shown}）不符"
                reasons.append(Reason("place_mismatch", text))
            else:
                reasons.append(Reason("place_not_addressed", f"答复未提及投诉的地点（{shown}）"))
        relevance = 1.0 - math.exp(-r / RELEVANCE_SCALE)
        if asked.terms and relevance < OFF_TOPIC:
            missing = "、".join([w for w in asked.terms if w not in answer][:SHOWN])
            reasons.append(Reason("off_topic", f"答复与投诉内容关联度低（未提及：{missing}）"))
        answer_times = set(times(answer))
        met = [t for t in asked.times if t in answer_times]
        if asked.times and not met:
            shown = "、".join(asked.times[:SHOWN])
            reasons.append(Reason("time_not_addressed", f"答复未提及投诉的时间（{shown}）"))
        signals = ReplySignals(
            coverage=coverage,
            precision=precision,
            relevance=relevance,
            places=len(said) / len(named) if named else None,
            times=len(met) / len(asked.times) if asked.times else None,
        )
        return signals, reasons

    def _again(
        self, asked: _Complaint, later: Sequence[str]
    ) -> tuple[float | None, tuple[Reason, ...]]:
        """How like the complaint the most similar later complaint is (None: there
        are none), and the reason when some are about the same matter."""
        if isinstance(later, str):  # one text passed bare: not its characters one by one
            later = (later,)
        if not later:
            return None, ()
        highest, same = 0.0, 0
        for text in later:
            other = clean(text)
            if not other or not asked.text:
                continue
            other_words = words(other, self.phrases)
            terms = math.sqrt(
                covered(asked.terms, other, other_words)
                * covered(key_terms(other_words, self.idf), asked.text, asked.words)
            )
            bigrams = similarity(asked.text, other)
            highest = max(highest, terms, bigrams)
            same += terms >= AGAIN_TERMS or bigrams >= AGAIN_SIMILARITY
        if not same:
            return highest, ()
        return highest, (Reason("complained_again", f"答复后诉求人又就同一问题反映了{same}次"),)


def _substance(content: ReplyContent) -> float:
    """Concreteness scaled by length (short replies say little) and lost to undated promises."""
    length = min(1.0, content.substance_chars / FULL_LENGTH)
    promised = PROMISE_PENALTY * min(len(content.promises_without_date), 2)
    return _clip(content.concreteness * length - promised)


def _content_reasons(content: ReplyContent) -> list[Reason]:
    """What the reply lacks on its own: length, substance, action, result, basis, dates."""
    reasons = []
    if content.substance_chars < SHORT:
        reasons.append(Reason("too_short", f"答复过短，除套话外仅{content.substance_chars}字"))
    mostly = content.boilerplate_share >= BOILERPLATE_SHARE
    if content.boilerplate and mostly and content.cues < BOILERPLATE_CUES:
        quoted = "”“".join(content.boilerplate[:SHOWN])
        reasons.append(Reason("boilerplate", f"答复以套话为主（“{quoted}”），无具体内容"))
    if content.concreteness < LOW_CONCRETENESS:
        if not content.actions:
            reasons.append(Reason("no_action", "答复未说明采取的具体措施（如现场核查、责令整改）"))
        if not content.results:
            reasons.append(Reason("no_result", "答复未说明处理结果"))
        if not content.legal:
            reasons.append(Reason("no_legal_basis", "答复未给出法规或政策依据"))
    if content.promises_without_date:
        quoted = "”“".join(content.promises_without_date[:SHOWN])
        reasons.append(Reason("promise_without_date", f"承诺“{quoted}”未给出完成时间"))
    return reasons


def _clip(value: float) -> float:
    return 0.0 if not math.isfinite(value) else min(1.0, max(0.0, value))


@functools.cache
def _shared() -> ReplyAssessor:
    """The assessor ``assess_reply`` uses when given none (jieba's IDF, shipped phrases)."""
    return ReplyAssessor()


def assess_reply(
    complaint: str,
    reply: str,
    *,
    later_complaints: Sequence[str] = (),
    assessor: ReplyAssessor | None = None,
) -> ReplyAssessment:
    """Assess ``reply`` as the answer to ``complaint`` (see the module's docstring).

    ``later_complaints``: texts the same caller gave about the same ticket or place
    since the reply (the caller of this function chooses them by date); any of
    them like the complaint gives ``complained_again``.  ``assessor``: one built
    with a city's own IDF table or phrases; by default a shared one."""
    assessor = assessor or _shared()
    return assessor.assess(complaint, reply, later_complaints=later_complaints)
