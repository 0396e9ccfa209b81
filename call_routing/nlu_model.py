"""The trained request-type and domain classifiers: built by ``hotline nlu train``,
shipped as ``call_routing/models/nlu.joblib`` with ``nlu.json`` describing them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from call_routing.classifier import Example, TextClassifier, fingerprint

MODEL_FILE = "nlu.joblib"
NO_EMERGENCY = "none"
META_FILE = "nlu.json"


@dataclass(frozen=True)
class NluModels:
    request_type: TextClassifier
    domain: TextClassifier
    emergency: TextClassifier  # "none", or the number: 119, 110, 120
    meta: dict[str, Any]


def train(examples: list[Example], data_text: str) -> NluModels:
    if not examples:
        raise ValueError("no training examples")
    texts = [e.text for e in examples]
    request_type = TextClassifier.fit(texts, [e.type for e in examples])
    domain = TextClassifier.fit(texts, [e.domain for e in examples])
    emergency = TextClassifier.fit(texts, [e.emergency or NO_EMERGENCY for e in examples])
    import sklearn

    meta = {
        "examples": len(examples),
        "data_sha": fingerprint(data_text),
        "sklearn": sklearn.__version__,
        "types": list(request_type.labels),
        "domains": list(domain.labels),
    }
    return NluModels(request_type, domain, emergency, meta)


def save(models: NluModels, directory: Path) -> Path:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    tmp = path.with_suffix(".tmp")
    joblib.dump(
        {"type": models.request_type, "domain": models.domain, "emergency": models.emergency},
        tmp,
        compress=3,
    )
    tmp.replace(path)
    (directory / META_FILE).write_text(
        json.dumps(models.meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return path


def load(directory: Path | None = None) -> NluModels:
    """The shipped models (or those in ``directory``); a clear error if they are missing."""
    import joblib

    base = directory or Path(str(resources.files("call_routing").joinpath("models")))
    path = base / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no trained understanding model at {path}: run `hotline nlu train`"
        )
    loaded = joblib.load(path)
    meta_path = base / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return NluModels(loaded["type"], loaded["domain"], loaded["emergency"], meta)
