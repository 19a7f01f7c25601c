"""The attachment-content port: where the bytes of attachments live.

Messages carry attachment *metadata* (:class:`~supportkit.domain._model.Attachment`:
filename, content type, size, sha256); the bytes live in an
:class:`AttachmentStore`, content-addressed by their sha256, so the same file
sent twice is kept once and a stored message never depends on a blob's name.

A backend subclasses :class:`AttachmentStore` and implements three small
hooks (``write_blob``, ``read_blob``, ``has_blob``); validation, hashing and the
integrity check on read live here, once. Shipped:
:class:`~supportkit.storage.attachments.MemoryAttachmentStore` (tests, demos)
and :class:`~supportkit.storage.attachments.FileAttachmentStore` (a folder).
"""

from __future__ import annotations

import abc
import hashlib
import re

from ..domain._errors import NotFound, StorageError, ValidationError
from ..domain._model import Attachment

__all__ = ["AttachmentStore", "check_sha256"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")


def check_sha256(sha256: object) -> str:
    """*sha256* if it is a lowercase hex sha256 digest; else ValidationError.

    A store builds keys (file names) from it, so nothing else may pass.
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValidationError(
            f"{sha256!r} is not a sha256 digest (64 lowercase hex characters); "
            "use the sha256 of an Attachment returned by AttachmentStore.put()"
        )
    return sha256


class AttachmentStore(abc.ABC):
    """Keeps attachment bytes by their sha256.

    >>> from supportkit.storage.attachments import MemoryAttachmentStore
    >>> store = MemoryAttachmentStore()
    >>> a = store.put(b"%PDF-1.7 ...", filename="invoice.pdf", content_type="application/pdf")
    >>> (a.filename, a.size, store.get(a.sha256))
    ('invoice.pdf', 12, b'%PDF-1.7 ...')
    """

    def put(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str = "application/octet-stream",
        content_id: str | None = None,
        inline: bool = False,
    ) -> Attachment:
        """Store *data* (once per content) and return the Attachment that refers to it."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValidationError(
                f"attachment {filename!r}: data must be bytes, not {type(data).__name__}"
            )
        if not filename.strip():
            raise ValidationError("an attachment needs a filename (e.g. 'invoice.pdf')")
        if not _CONTENT_TYPE.fullmatch(content_type):
            raise ValidationError(
                f"attachment {filename!r}: content type {content_type!r} is not 'type/subtype' "
                "(e.g. 'application/pdf')"
            )
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        if not self.has_blob(digest):
            self.write_blob(digest, data)
        return Attachment(
            filename=filename,
            content_type=content_type.lower(),
            size=len(data),
            content_id=content_id,
            inline=inline,
            sha256=digest,
        )

    def get(self, sha256: str) -> bytes:
        """The bytes stored under *sha256*; NotFound if none are, StorageError if they
        no longer match their digest (a corrupted blob)."""
        data = self.read_blob(check_sha256(sha256))
        if data is None:
            raise NotFound(
                "attachment content",
                sha256,
                f"{type(self).__name__} has none; store it with put() first",
            )
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StorageError(
                f"attachment content {sha256} in {type(self).__name__} is corrupted: its "
                "bytes no longer match their sha256; restore it from a backup"
            )
        return data

    def exists(self, sha256: str) -> bool:
        """True when bytes with this digest are stored."""
        return self.has_blob(check_sha256(sha256))

    def __contains__(self, sha256: object) -> bool:
        return isinstance(sha256, str) and bool(_SHA256.fullmatch(sha256)) and self.has_blob(sha256)

    # -- the backend's hooks (the digest is checked before they are called; the
    # base class hashes, validates and verifies, the hooks only keep bytes) --------------
    @abc.abstractmethod
    def write_blob(self, sha256: str, data: bytes) -> None:
        """Keep *data* under *sha256*, durably and atomically (all or nothing)."""

    @abc.abstractmethod
    def read_blob(self, sha256: str) -> bytes | None:
        """The bytes under *sha256*, or None."""

    @abc.abstractmethod
    def has_blob(self, sha256: str) -> bool:
        """Whether bytes are kept under *sha256* (cheap: no read of the bytes)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
