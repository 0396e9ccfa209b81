"""What the caller wants (诉求理解): request type, domain and seat group, emergency,
slots and a one-line summary, from a transcript or a web form's text.

``Understander.understand(text, now)`` never raises on odd input (empty, only
fillers, thousands of characters, English and digits): it returns a valid
:class:`Understanding`, with low confidence where there is little to go on.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from call_routing.category_tree import CategoryTree
from call_routing.classifier import Prediction
from call_routing.emergency import DEFAULT_NUMBERS, Emergency, cues_set_aside, detect_emergency
from call_routing.nlu_model import NO_EMERGENCY, NluModels
from call_routing.slots import extract_slots, mask_ids, mask_phones
from call_routing.taxonomy import Taxonomy
from call_routing.text import MAX_CHARS, clauses, normalise, without_greeting

# Words that name the request type outright; they tip the model's balance.
TYPE_CUES: dict[str, tuple[str, ...]] = {
    "投诉": ("投诉", "太吵", "扰民", "不处理", "没人管", "态度差", "态度很差", "乱收费", "不作为"),
    "举报": ("举报", "偷排", "非法", "违法", "无证", "黑作坊", "偷倒", "违规"),
    "表扬": ("表扬", "感谢", "谢谢你们", "点赞", "锦旗", "好评", "辛苦了"),
    "建议": ("建议", "希望能", "能不能增加", "应该增设", "提个意见", "提议"),
    "咨询": ("请问", "咨询", "怎么办理", "想问", "需要什么材料", "在哪里办", "怎么申请"),
    "求助": ("求助", "帮帮", "帮忙", "救救", "没办法了", "走投无路"),
}
_CUE_WEIGHT = 0.25  # per cue found, added to the model's probability, then renormalised
_WORD_WEIGHT = 0.08  # per taxonomy word of a domain found
# Each word of the category tree's lexicon for the domain's first level (up to five)
# multiplies its odds by e^0.5: chosen on 1,200 messages of the city's history that
# the dev file does not repeat (0.78 → 0.82 mapped domain accuracy there, calibration
# kept; the project's eval set unchanged).
_TREE_WORD_WEIGHT = 0.5
_TREE_WORDS_COUNTED = 5
# Below this the caller is asked once for details: on the evaluation set about one
# call in six, whose domain is right 64 % of the time against 90 % for the rest.
LOW_CONFIDENCE = 0.25
_EMERGENCY_THRESHOLD = 0.45  # the learned model's P(emergency) that counts
# Below that, from here up the call is "emergency-adjacent": not handed to 110/119/120,
# but served before others (a gas smell "a bit", an elderly neighbour not seen for days).
EMERGENCY_ADJACENT = 0.2
_SERVICES = {"119": "fire", "110": "police", "120": "medical"}
_SELF = re.compile(r"^(我叫|我姓|我是.{0,6}(先生|女士|小姐|师傅)|我的电话|电话是|手机号|联系电话)")
_COURTESY = re.compile(r"^(谢谢|麻烦(你们|您)?了?|好的|拜托了|辛苦了|就这样)$")
_PROBLEM = re.compile(
    r"(坏|不|没|太|乱|漏|吵|臭|欠|要求|希望|请问|怎么|为什么|投诉|举报|建议|表扬|感谢|"
    r"问题|影响|严重|占用|违|堵|停|拖)"
)


@dataclass(frozen=True)
class Understanding:
    request_type: str
    type_confidence: float
    domain: str
    domain_confidence: float
    category_code: str
    category: str
    seat_group: str
    departments: tuple[str, ...]
    emergency: Any  # call_routing.emergency.Emergency or None
    slots: Any  # call_routing.slots.Slots
    summary: str
    text: str = ""
    alternatives: dict[str, dict[str, float]] = field(default_factory=dict)
    low_confidence_below: float = LOW_CONFIDENCE
    danger: float = 0.0  # the learned model's P(emergency)
    general_seat_group: str = ""  # who triages when the understanding is unsure
    categories: Any = None  # call_routing.category_tree.CategoryPath in the city's tree

    @property
    def emergency_adjacent(self) -> bool:
        return self.emergency is None and self.danger >= EMERGENCY_ADJACENT

    @property
    def confidence(self) -> float:
        return min(self.type_confidence, self.domain_confidence)

    @property
    def low_confidence(self) -> bool:
        return self.confidence < self.low_confidence_below

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``hotline route --json``, events, tickets)."""
        emergency = None
        if self.emergency is not None:
            emergency = self.emergency.number
        return {
            "request_type": self.request_type,
            "domain": self.domain,
            "category": {"code": self.category_code, "name": self.category},
            "seat_group": self.seat_group,
            "departments": list(self.departments),
            "emergency": emergency,
            "emergency_detail": _plain(self.emergency),
            "slots": _plain(self.slots),
            "summary": self.summary,
            "confidence": round(self.confidence, 3),
            "type_confidence": round(self.type_confidence, 3),
            "domain_confidence": round(self.domain_confidence, 3),
            "low_confidence": self.low_confidence,
            "danger": round(self.danger, 3),
            "emergency_adjacent": self.emergency_adjacent,
            "general_seat_group": self.general_seat_group,
            "categories": _tree_path(self.categories),
        }


class Understander:
    def __init__(
        self,
        taxonomy: Taxonomy,
        models: NluModels,
        low_confidence: float = LOW_CONFIDENCE,
        tree: CategoryTree | None = None,
    ) -> None:
        """``tree``: the city's category tree (default: the shipped example)."""
        self.low_confidence = low_confidence
        unknown = []
        for label in models.domain.labels:
            try:
                taxonomy.canonical_domain(label)
            except KeyError:
                unknown.append(label)
        if unknown:
            raise ValueError(
                f"the taxonomy has no domain {', '.join(unknown)} that the model knows: "
                "keep the shipped domain names (or add them as aliases)"
            )
        self.taxonomy = taxonomy
        self.models = models
        self.tree = tree or CategoryTree.load(None, taxonomy.domains)
        self._level1 = {name: self.tree.level1_for(name) for name in taxonomy.domains}
        # A model trained on the city's own history has learned its words already
        # (the tilt costs it a point on the dev file): only the shipped one is tilted.
        tilted = models.meta.get("kind") != "history"
        self._tree_words = (
            {}
            if not tilted
            else {level1: self.tree.lexicon_words(level1) for level1 in self._level1.values()}
        )

    def understand(self, text: str, now: datetime) -> Understanding:
        clean = normalise(text)
        if not re.search(r"\w", clean):
            return self._nothing(text, now)
        request_type = _blend(self.models.request_type.predict(clean), self._type_cues(clean))
        domain = _tilt(
            _blend(self.models.domain.predict(clean), self._domain_words(clean)),
            self._tree_hits(clean),
        )
        domain_name = self.taxonomy.canonical_domain(domain.label)
        entry = self.taxonomy.domains[domain_name]
        category = self.taxonomy.category(domain_name, clean)
        said = text[:MAX_CHARS]  # slots and emergency cues read the caller's own words
        slots = extract_slots(said, now=now)
        emergency = detect_emergency(said, self.taxonomy.emergency_numbers or None)
        danger = self._danger(clean)
        if emergency is None and not cues_set_aside(said):
            emergency = self._learned_emergency(danger)
        if emergency is not None and request_type.label != "求助":
            # every danger now is a call for help (labelling rules), whatever it started as
            request_type = Prediction("求助", max(request_type.scores.get("求助", 0.0), 0.5),
                                      request_type.scores)  # fmt: skip
        return Understanding(
            request_type=request_type.label,
            type_confidence=request_type.confidence,
            domain=domain_name,
            domain_confidence=domain.confidence,
            category_code=category.code,
            category=category.name,
            seat_group=entry.seat_group,
            departments=entry.departments,
            emergency=emergency,
            slots=slots,
            summary=summarise(clean, request_type.label),
            text=text,
            alternatives={"type": request_type.scores, "domain": domain.scores},
            low_confidence_below=self.low_confidence,
            danger=danger[0],
            general_seat_group=self.taxonomy.general_seat_group,
            categories=self.tree.classify(clean, self._level1[domain_name]),
        )

    def _danger(self, clean: str) -> tuple[float, dict[str, float]]:
        """The emergency model's P(emergency) and its scores per number."""
        scores = self.models.emergency.predict(clean).scores
        return 1.0 - scores.get(NO_EMERGENCY, 1.0), scores

    def _learned_emergency(self, danger_scores: tuple[float, dict[str, float]]) -> Emergency | None:
        """The rules' safety net: the model trained on emergency calls.  Its threshold
        is low on purpose: a missed fire is far worse than an agent's second look."""
        danger, scores = danger_scores
        if danger < _EMERGENCY_THRESHOLD:
            return None
        number = max((n for n in scores if n != NO_EMERGENCY), key=scores.__getitem__)
        service = _SERVICES.get(number, "police")
        dial = {**DEFAULT_NUMBERS, **self.taxonomy.emergency_numbers}
        return Emergency(service, service, dial.get(service, number), "", (0, 0), round(danger, 3))

    def _nothing(self, text: str, now: datetime) -> Understanding:
        other = self.taxonomy.domains["其他"]
        return Understanding(
            request_type="咨询",
            type_confidence=0.0,
            domain=other.name,
            domain_confidence=0.0,
            category_code=other.categories[0].code,
            category=other.categories[0].name,
            seat_group=self.taxonomy.general_seat_group,
            departments=other.departments,
            emergency=None,
            slots=extract_slots("", now=now),
            summary="",
            text=text,
            general_seat_group=self.taxonomy.general_seat_group,
        )

    def _type_cues(self, text: str) -> dict[str, float]:
        return {
            label: _CUE_WEIGHT * sum(1 for cue in cues if cue in text)
            for label, cues in TYPE_CUES.items()
        }

    def _tree_hits(self, text: str) -> dict[str, float]:
        """Per domain, how many words of its first level's lexicon ``text`` holds
        (at most :data:`_TREE_WORDS_COUNTED`)."""
        found = {
            level1: min(sum(1 for word in words if word in text), _TREE_WORDS_COUNTED)
            for level1, words in self._tree_words.items()
        }
        return {name: found[level1] for name, level1 in self._level1.items() if level1 in found}

    def _domain_words(self, text: str) -> dict[str, float]:
        bonus = {}
        for name, domain in self.taxonomy.domains.items():
            hits = sum(1 for c in domain.categories for word in c.words if word in text)
            bonus[name] = _WORD_WEIGHT * min(hits, 3)
        return bonus


class UnderstandingSetupError(ValueError):
    """The settings name a taxonomy, model or category tree that cannot be used
    together; the message names the key and the fix."""


def build_understander(
    taxonomy_file: Path | None,
    model_dir: Path | None,
    categories_file: Path | None,
    low_confidence: float = LOW_CONFIDENCE,
) -> Understander:
    """The understanding as ``[routing]`` configures it (checked at the node's start)."""
    from call_routing import nlu_model
    from call_routing.category_tree import CategoryTree, CategoryTreeError
    from call_routing.taxonomy import load_taxonomy

    try:
        taxonomy = load_taxonomy(taxonomy_file)
    except (OSError, ValueError) as exc:
        raise UnderstandingSetupError(f"routing.taxonomy: {exc}") from None
    try:
        models = nlu_model.load(model_dir)
    except nlu_model.ModelError as exc:
        key = "routing.model" if model_dir else "the shipped model"
        raise UnderstandingSetupError(f"{key}: {exc}") from None
    unknown = []
    for label in models.domain.labels:
        try:
            taxonomy.canonical_domain(label)
        except KeyError:
            unknown.append(label)
    if unknown and model_dir is None:
        raise UnderstandingSetupError(
            f"routing.taxonomy ({taxonomy_file}): the taxonomy has no domain "
            f"{', '.join(unknown)} that the "
            "shipped model knows: keep the shipped domain names (or add them as aliases)"
        )
    if unknown:
        raise UnderstandingSetupError(
            f"routing.model ({model_dir}) was trained for another taxonomy: this one has no "
            f"domain {', '.join(unknown)}; train it again with `hotline nlu train --history "
            "… --out DIR` against this taxonomy, or point routing.taxonomy at the one it was "
            "trained with"
        )
    try:
        tree = CategoryTree.load(categories_file, taxonomy.domains)
    except (CategoryTreeError, OSError) as exc:
        raise UnderstandingSetupError(f"routing.categories: {exc}") from None
    try:
        return Understander(taxonomy, models, low_confidence, tree)
    except ValueError as exc:
        if model_dir is None:
            raise UnderstandingSetupError(f"routing.taxonomy: {exc}") from None
        raise UnderstandingSetupError(
            f"routing.model ({model_dir}) was trained for another taxonomy: {exc}; train it "
            "again with `hotline nlu train --history … --out DIR` against this taxonomy, or "
            "point routing.taxonomy at the one it was trained with"
        ) from None


def _tilt(prediction: Prediction, hits: dict[str, float]) -> Prediction:
    """``prediction`` with each label's probability times e^(weight × hits): evidence
    that multiplies odds keeps the model's calibration where adding would flatten it."""
    scores = {
        label: p * math.exp(_TREE_WORD_WEIGHT * hits.get(label, 0.0))
        for label, p in prediction.scores.items()
    }
    total = sum(scores.values()) or 1.0
    scores = {label: s / total for label, s in scores.items()}
    best = max(scores, key=scores.__getitem__)
    return Prediction(best, scores[best], scores)


def _blend(prediction: Prediction, bonus: dict[str, float]) -> Prediction:
    scores = {label: p + bonus.get(label, 0.0) for label, p in prediction.scores.items()}
    total = sum(scores.values()) or 1.0
    scores = {label: s / total for label, s in scores.items()}
    best = max(scores, key=scores.__getitem__)
    return Prediction(best, scores[best], scores)


def summarise(text: str, request_type: str, limit: int = 60) -> str:
    """诉求摘要: the clauses that carry the problem, without greetings, fillers,
    self-introductions and courtesy, ID and phone numbers masked."""
    kept = []
    for clause in clauses(normalise(text)):
        clause = without_greeting(clause)
        if not clause or _SELF.match(clause) or _COURTESY.match(clause):
            continue
        kept.append(clause)
    if not kept:
        return ""
    scored = sorted(range(len(kept)), key=lambda i: (-len(_PROBLEM.findall(kept[i])), i))[:2]
    chosen = "，".join(kept[i] for i in sorted(scored))
    chosen = mask_phones(mask_ids(chosen))
    if len(chosen) > limit:
        chosen = chosen[: limit - 1] + "…"
    return f"{request_type}：{chosen}"


def _tree_path(path: Any) -> dict[str, Any] | None:
    if path is None:
        return None
    return {
        "level1": path.level1,
        "level2": path.level2,
        "level3": path.level3,
        "code": path.code,
        "score": round(path.score, 3),
    }


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value  # enums
    return value
