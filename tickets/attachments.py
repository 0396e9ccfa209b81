"""Files departments attach to a ticket: photos of the site, documents.

Stored beside the recordings (``<recordings>/attachments/<ticket number>/``),
named by their SHA-256 so the same file is kept once, written atomically (a
temporary file, flushed, then renamed), and checked before anything is written:
the size against ``max_bytes`` and the type by the file's own first bytes
(a JPEG, PNG, PDF, or an Office document), never by its name alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024

# media type → (magic bytes at the start, the extensions it may carry)
KINDS: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "application/pdf": (b"%PDF-", (".pdf",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        b"PK\x03\x04",
        (".docx",),
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        b"PK\x03\x04",
        (".xlsx",),
    ),
}
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


class AttachmentError(ValueError):
    """The file is refused (too big, empty, or not a type a ticket takes); nothing was stored."""

    retryable = False


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An attachment's file as written: its name, checked type, size, hash and path."""

    name: str
    media_type: str
    size: int
    sha256: str
    path: Path


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as the ticket store records it."""

    id: int
    at: datetime
    actor: str
    department: str
    name: str
    media_type: str
    size: int
    sha256: str
    path: Path


def media_type_of(name: str, data: bytes) -> str:
    """The media type ``data`` is by its first bytes, checked against ``name``'s
    extension; :class:`AttachmentError` naming the accepted types otherwise."""
    extension = Path(name).suffix.lower()
    for media_type, (magic, extensions) in KINDS.items():
        if data.startswith(magic) and extension in extensions:
            return media_type
    accepted = ", ".join(sorted({e for _, exts in KINDS.values() for e in exts}))
    raise AttachmentError(
        f"{name!r} is not a file a ticket takes (its contents do not match "
        f"{extension or 'its name'}); attach photos or documents: {accepted}"
    )


def safe_name(name: str) -> str:
    """``name`` without folders or characters a file system may refuse (at most 100)."""
    base = Path(name.replace("\\", "/")).name.strip() or "attachment"
    cleaned = _UNSAFE.sub("_", base).strip("._") or "attachment"
    stem, suffix = os.path.splitext(cleaned)
    return stem[: 100 - len(suffix)] + suffix


def store_attachment(
    root: Path, number: str, name: str, data: bytes, max_bytes: int = MAX_BYTES
) -> StoredFile:
    """Check ``data`` and write it under ``root/<number>/``; the stored file."""
    if not data:
        raise AttachmentError(f"{name!r} is empty")
    if len(data) > max_bytes:
        raise AttachmentError(
            f"{name!r} is {len(data) / 1048576:.1f} MiB; attachments may be at most "
            f"{max_bytes / 1048576:.0f} MiB"
        )
    media_type = media_type_of(name, data)
    digest = hashlib.sha256(data).hexdigest()
    clean = safe_name(name)
    folder = root / safe_name(number)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest[:16]}-{clean}"
    if not path.exists():
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return StoredFile(clean, media_type, len(data), digest, path)
