"""The hotline's vocabulary for the ASR service, read where ``call_routing`` may be used.

``asr`` may not import ``call_routing`` (DESIGN.md, "Packages"), and the ASR service's
process is this node's (``ivr/node/asr_service.py``), so the vocabulary is gathered
here, at the service's start, and handed to ``asr.engines.open_engine``:

- the lead departments of every domain of the taxonomy (``routing.taxonomy``, else
  the shipped ``call_routing/taxonomy.toml``), in the taxonomy's order;
- the city's own place list (``routing.places``), read by ``asr.vocabulary``;
- the places ``call_routing.places`` knows: Guangdong's cities and their districts
  and counties, then the provinces;
- the common complaint words of ``asr.vocabulary``.

None when ``asr.vocabulary`` is off.
"""

from __future__ import annotations

from asr.vocabulary import Vocabulary, build_vocabulary
from call_routing.places import GUANGDONG, PROVINCES
from call_routing.taxonomy import load_taxonomy
from sip_config import Settings


def known_places() -> tuple[str, ...]:
    """Guangdong's cities, each followed by its districts and counties; the provinces."""
    found = [name for city, districts in GUANGDONG.items() for name in (city, *districts)]
    return tuple(dict.fromkeys([*found, *PROVINCES]))


def node_vocabulary(settings: Settings) -> Vocabulary | None:
    """The vocabulary ``settings`` ask for; ``VocabularyError`` for a bad place list."""
    if not settings.asr.vocabulary:
        return None
    taxonomy = load_taxonomy(settings.routing.taxonomy)
    departments = [d for domain in taxonomy.domains.values() for d in domain.departments]
    return build_vocabulary(departments, known_places(), settings.routing.places)
