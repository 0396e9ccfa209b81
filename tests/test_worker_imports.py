"""A media worker's imports: none of the node's heavy libraries.

A node runs about a hundred workers, so every module a worker loads is paid for
a hundred times (pydantic and pydantic-settings alone were about 8 MB of USS a
worker).  The check runs in a fresh interpreter, as ``python -m ivr.media.worker``
starts, and goes past the imports: it reads a settings file the way a worker does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sip_config import Settings

# Top-level packages a worker must not load.  Its own needs (pjsua2, aiomqtt and
# paho, websockets, the standard library) are not listed.
HEAVY = {
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "dotenv",
    "annotated_types",
    "typing_inspection",
    "numpy",
    "scipy",
    "sklearn",
    "soxr",
    "typer",
    "click",
    "rich",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "yaml",
    "jsonschema",
    "pyttsx3",
    "vosk",
    "faster_whisper",
    "ctranslate2",
    "webrtcvad",
    "jieba",
    "opencc",
}

PROBE = """
import json, sys
from pathlib import Path
import ivr.media.worker as worker
from events.broker_address import broker_address
settings = worker.read_worker_settings(Path(sys.argv[1]))
broker_address(settings)
heavy = set(json.loads(sys.argv[2]))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & heavy)))
"""


def test_a_worker_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(Settings.model_validate({}).model_dump_json(indent=2))

    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(settings_file), json.dumps(sorted(HEAVY))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == []
