"""The trained request-type, domain and emergency classifiers.

Two kinds of model directory hold them (``nlu.joblib`` with ``nlu.json`` describing it):

- the shipped one, ``call_routing/models``, built by ``hotline nlu train`` from the
  project's own labelled texts (``call_routing/data``): all three classifiers;
- a city's own, built by ``hotline nlu train --history … --out DIR`` from its labelled
  history (and its agents' corrections): a domain classifier only; request type and
  emergencies stay the shipped ones.  ``routing.model`` in node.toml names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from call_routing.classifier import FEATURES, Example, TextClassifier, fingerprint

MODEL_FILE = "nlu.joblib"
NO_EMERGENCY = "none"
META_FILE = "nlu.json"
FORMAT = 2  # what load() understands; older directories must be trained again
HELD_BACK_FILE = "held_back.csv"  # a history model's held-back rows (text,label)


class ModelError(ValueError):
    """A model directory that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class NluModels:
    request_type: TextClassifier
    domain: TextClassifier
    emergency: TextClassifier  # "none", or the number: 119, 110, 120
    meta: dict[str, Any]  # the domain model's description (nlu.json)


def shipped_directory() -> Path:
    return Path(str(resources.files("call_routing").joinpath("models")))


def train(examples: list[Example], data_text: str) -> NluModels:
    if not examples:
        raise ValueError("no training examples")
    texts = [e.text for e in examples]
    request_type = TextClassifier.fit(texts, [e.type for e in examples])
    domain = TextClassifier.fit(texts, [e.domain for e in examples])
    emergency = TextClassifier.fit(texts, [e.emergency or NO_EMERGENCY for e in examples])
    meta = {
        **_common_meta("shipped"),
        "examples": len(examples),
        "data_sha": fingerprint(data_text),
        "types": list(request_type.labels),
        "domains": list(domain.labels),
        "temperature": {
            "type": request_type.temperature,
            "domain": domain.temperature,
            "emergency": emergency.temperature,
        },
    }
    return NluModels(request_type, domain, emergency, meta)


def history_meta(domain: TextClassifier, **facts: Any) -> dict[str, Any]:
    """The description of a history model: its domains and what it was trained on."""
    return {
        **_common_meta("history"),
        "domains": list(domain.labels),
        "temperature": {"domain": domain.temperature},
        **facts,
    }


def _common_meta(kind: str) -> dict[str, Any]:
    import sklearn

    return {"format": FORMAT, "kind": kind, "features": FEATURES, "sklearn": sklearn.__version__}


def save(models: NluModels, directory: Path) -> Path:
    """The three classifiers (the shipped kind)."""
    return _write(
        {"type": models.request_type, "domain": models.domain, "emergency": models.emergency},
        models.meta,
        directory,
    )


def save_history(domain: TextClassifier, meta: dict[str, Any], directory: Path) -> Path:
    """A city's domain classifier (the history kind)."""
    return _write({"domain": domain}, meta, directory)


def _write(classifiers: dict[str, TextClassifier], meta: dict[str, Any], directory: Path) -> Path:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    tmp = path.with_suffix(".tmp")
    joblib.dump(classifiers, tmp, compress=3)
    meta_tmp = directory / (META_FILE + ".tmp")
    meta_tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # the model first: a reader never sees new meta with an old model
    meta_tmp.replace(directory / META_FILE)
    return path


def load(directory: Path | None = None) -> NluModels:
    """The shipped models, or those in ``directory`` (a history model's domain
    classifier with the shipped type and emergency ones); a clear error otherwise."""
    if directory is None or directory.resolve() == shipped_directory().resolve():
        return _complete(_read(shipped_directory()), shipped_directory())
    own = _read(directory)
    if all(name in own for name in ("type", "emergency")):
        return _complete(own, directory)
    base = _complete(_read(shipped_directory()), shipped_directory())
    return NluModels(
        own.get("type", base.request_type),
        own["domain"],
        own.get("emergency", base.emergency),
        own["meta"],
    )


def _complete(found: dict[str, Any], directory: Path) -> NluModels:
    missing = [name for name in ("type", "domain", "emergency") if name not in found]
    if missing:
        raise ModelError(
            f"the model at {directory} lacks {', '.join(missing)}: run `hotline nlu train`"
        )
    return NluModels(found["type"], found["domain"], found["emergency"], found["meta"])


def _read(directory: Path) -> dict[str, Any]:
    import joblib

    path = directory / MODEL_FILE
    if not path.exists():
        raise ModelError(
            f"no trained understanding model at {path}: run `hotline nlu train` "
            "(or `hotline nlu train --history FILE --out DIR` for a city's own)"
        )
    meta_path = directory / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"the model at {directory} was made by another version of the node (format "
            f"{meta.get('format', 1)}, this one reads {FORMAT}): train it again with "
            "`hotline nlu train`"
        )
    try:
        loaded = dict(joblib.load(path))
    except Exception as exc:  # noqa: BLE001 (pickles fail in many ways)
        raise ModelError(
            f"cannot read the model at {path} ({type(exc).__name__}: {exc}): train it again"
        ) from None
    if "domain" not in loaded:
        raise ModelError(f"the model at {path} has no domain classifier: train it again")
    return {**loaded, "meta": meta}
