"""What a reply says on its own, whatever the complaint: how much of it is
formula and boilerplate (套话), which concrete actions, results and legal bases
it names, and which promises it makes without a date.

Pure functions of the reply's cleaned text and the phrase lists."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from verification.reply_phrases import Phrases

_SENTENCES = re.compile(r"[。；;！!？?\n]+")
_CLAUSES = re.compile(r"[，,、：:]+")
_SIGNATURE_DATE = re.compile(r"(?:\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日[。.]?\s*)+$")
_SUBSTANCE = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_AMOUNT = re.compile(
    r"\d{1,2}:\d{2}|\d+(?:\.\d+)?\s*(?:万元|元|万|平方米|平米|米|公里|千米|户|人|名|台|辆|套|栋|间|处|起|件|次|%|吨|"
    r"个工作日|工作日|天|日内|小时|分贝|家|条|盏|棵|个)"
)
_UNIT = re.compile(
    r"[\u4e00-\u9fff]{2,10}?(?:局|委员会|委|办公室|办事处|中心|公司|大队|中队|支队|派出所|"
    r"管理处|管理所|居委会|村委会|医院|学校|银行|法院|检察院)"
)
_VAGUE_UNIT = re.compile(r"^(?:相关|有关|上级|主管|职能|责任|各级|我|本|该|贵)")
CONCRETE_HALF = 2.0  # concreteness 1 - e^(-cues/2): two cues ≈ 0.63, four ≈ 0.86


@dataclass(frozen=True)
class ReplyContent:
    """What a reply says on its own.  ``substance_chars``: its characters (Han,
    Latin, digits) outside formulas and boilerplate; ``boilerplate_share``: the
    share of its characters that are boilerplate or formula."""

    chars: int
    substance_chars: int
    boilerplate_share: float
    boilerplate: tuple[str, ...]
    actions: tuple[str, ...]
    results: tuple[str, ...]
    legal: tuple[str, ...]
    amounts: tuple[str, ...]
    units: tuple[str, ...]
    promises_without_date: tuple[str, ...]

    @property
    def cues(self) -> float:
        """Concrete cues, weighted: a result or a legal basis counts 1.5, an action 1,
        an amount or a named unit 0.5 (each kind capped)."""
        return (
            min(len(self.actions), 3)
            + 1.5 * min(len(self.results), 2)
            + 1.5 * min(len(self.legal), 2)
            + 0.5 * min(len(self.amounts), 3)
            + 0.5 * min(len(self.units), 3)
        )

    @property
    def concreteness(self) -> float:
        """0 (nothing concrete) to 1 (several actions, results, bases)."""
        return 1.0 - math.exp(-self.cues / CONCRETE_HALF)


def body(reply: str) -> str:
    """The reply without its signature date at the end (……2017年9月8日)."""
    return _SIGNATURE_DATE.sub("", reply)


def read_reply(reply: str, phrases: Phrases) -> ReplyContent:
    """What the (cleaned) reply says on its own."""
    text = body(reply)
    chars = len(_SUBSTANCE.findall(text))
    boiler = [m.group() for m in phrases.boilerplate_re.finditer(text)]
    stripped = _strip(text, phrases)
    substance = len(_SUBSTANCE.findall(stripped))
    share = 1.0 - substance / chars if chars else 1.0
    promised = _promises_without_date(text, phrases)
    done = _strip(_done(text, phrases), phrases)
    return ReplyContent(
        chars=chars,
        substance_chars=substance,
        boilerplate_share=share,
        boilerplate=tuple(dict.fromkeys(boiler)),
        actions=_distinct(phrases.action_re.findall(done)),
        results=_distinct(phrases.result_re.findall(done)),
        legal=_distinct(m.group() for p in phrases.legal for m in p.finditer(text)),
        amounts=_distinct(_AMOUNT.findall(text)),
        units=_distinct(u for u in _UNIT.findall(text) if not _VAGUE_UNIT.match(u)),
        promises_without_date=promised,
    )


def _done(text: str, phrases: Phrases) -> str:
    """What was done, not promised: the clauses that make undated promises left out."""
    kept = []
    for sentence in _SENTENCES.split(text):
        if not _undated_promises(sentence, phrases):
            kept.append(sentence)
            continue
        kept.extend(
            clause
            for clause in _CLAUSES.split(sentence)
            if not any(p.search(clause) for p in phrases.promise)
        )
    return "。".join(kept)


def _strip(text: str, phrases: Phrases) -> str:
    """The text without its formulas and boilerplate."""
    return phrases.boilerplate_re.sub("", phrases.formula_re.sub("", text))


def _promises_without_date(text: str, phrases: Phrases) -> tuple[str, ...]:
    """The promises (将/会/尽快/近期 + an action) in sentences that give no date or
    time limit, each as the words that promise."""
    return _distinct(p for s in _SENTENCES.split(text) for p in _undated_promises(s, phrases))


def _undated_promises(sentence: str, phrases: Phrases) -> list[str]:
    promises = [m.group() for p in phrases.promise for m in p.finditer(sentence)]
    if promises and any(p.search(sentence) for p in phrases.deadline):
        return []
    return promises


def _distinct(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
