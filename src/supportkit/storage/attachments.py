"""Attachment stores shipped in the box: in memory, and a content-addressed folder.

Both implement :class:`~supportkit.ports.AttachmentStore`; pass one to a
channel (``EmailChannel(attachments=store)``) so inbound attachments are kept
and outbound ones can be sent.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from ..domain._errors import StorageError
from ..ports._attachments import AttachmentStore

__all__ = ["FileAttachmentStore", "MemoryAttachmentStore"]


class MemoryAttachmentStore(AttachmentStore):
    """Attachment bytes in process memory; gone when the process ends."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def write_blob(self, sha256: str, data: bytes) -> None:
        with self._lock:
            self._blobs.setdefault(sha256, data)

    def read_blob(self, sha256: str) -> bytes | None:
        return self._blobs.get(sha256)

    def has_blob(self, sha256: str) -> bool:
        return sha256 in self._blobs

    def __len__(self) -> int:
        return len(self._blobs)


class FileAttachmentStore(AttachmentStore):
    """Attachment bytes as files under *root*, named by sha256 (``ab/cd/abcd…``).

    A write goes to a temporary file in the target folder, is flushed to disk
    and renamed into place, so a reader (another process sharing the folder)
    sees the whole file or none, and a crash leaves at most a stray ``.tmp``.
    The same content written twice is kept once.

    >>> import tempfile
    >>> store = FileAttachmentStore(tempfile.mkdtemp())
    >>> a = store.put(b"hello", filename="hello.txt", content_type="text/plain")
    >>> store.path_of(a.sha256).relative_to(store.root).parts[:2]
    ('2c', 'f2')
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the attachment folder {self.root}: {exc}") from exc

    def path_of(self, sha256: str) -> Path:
        """Where the bytes with this (checked) digest live."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def write_blob(self, sha256: str, data: bytes) -> None:
        target = self.path_of(sha256)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{sha256[:16]}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    if self.fsync:
                        f.flush()
                        os.fsync(f.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(
                f"cannot write attachment content {sha256} under {self.root}: {exc}"
            ) from exc

    def read_blob(self, sha256: str) -> bytes | None:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(
                f"cannot read attachment content {sha256} under {self.root}: {exc}"
            ) from exc

    def has_blob(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def __repr__(self) -> str:
        return f"<FileAttachmentStore {str(self.root)!r}>"
