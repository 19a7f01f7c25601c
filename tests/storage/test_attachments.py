"""Attachment stores: the contract on memory and on a folder, and what only a folder can do."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from supportkit import StorageError
from supportkit.storage.attachments import FileAttachmentStore, MemoryAttachmentStore
from supportkit.testing import AttachmentStoreContract


class TestMemoryAttachmentStore(AttachmentStoreContract):
    @pytest.fixture
    def attachment_store(self) -> MemoryAttachmentStore:
        return MemoryAttachmentStore()


class TestFileAttachmentStore(AttachmentStoreContract):
    @pytest.fixture
    def attachment_store(self, tmp_path: Path) -> FileAttachmentStore:
        return FileAttachmentStore(tmp_path / "blobs", fsync=False)


def test_files_are_named_by_their_sha256_and_leave_no_temporary_file(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    a = store.put(b"%PDF-1.7", filename="invoice.pdf", content_type="application/pdf")
    assert a.sha256 is not None
    path = store.path_of(a.sha256)
    assert path == tmp_path / a.sha256[:2] / a.sha256[2:4] / a.sha256
    assert path.read_bytes() == b"%PDF-1.7"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [a.sha256]


def test_a_second_store_on_the_same_folder_reads_what_the_first_wrote(tmp_path: Path) -> None:
    a = FileAttachmentStore(tmp_path).put(b"kept", filename="k.txt", content_type="text/plain")
    assert a.sha256 is not None
    assert FileAttachmentStore(tmp_path).get(a.sha256) == b"kept"


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileAttachmentStore(tmp_path)

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(StorageError, match="No space left"):
        store.put(b"data", filename="d.bin", content_type="application/octet-stream")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not store.exists(hashlib.sha256(b"data").hexdigest())


def test_a_corrupted_file_is_reported_not_returned(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    a = store.put(b"original", filename="o.txt", content_type="text/plain")
    assert a.sha256 is not None
    store.path_of(a.sha256).write_bytes(b"bit rot")
    with pytest.raises(StorageError, match="corrupted"):
        store.get(a.sha256)
