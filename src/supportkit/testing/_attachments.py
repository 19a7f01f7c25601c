"""The attachment-store contract: the tests every AttachmentStore must pass.

Subclass :class:`AttachmentStoreContract` and override one fixture,
``attachment_store``, yielding a fresh, empty store::

    class TestMyStore(AttachmentStoreContract):
        @pytest.fixture
        def attachment_store(self, tmp_path):
            return MyStore(tmp_path)
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..domain._errors import NotFound, ValidationError
from ..ports._attachments import AttachmentStore

__all__ = ["AttachmentStoreContract"]

_settings = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)


class AttachmentStoreContract:
    """Base class of an attachment store's contract tests."""

    @pytest.fixture
    def attachment_store(self) -> Iterator[AttachmentStore]:
        raise NotImplementedError(
            f"{type(self).__name__} must override the `attachment_store` fixture: "
            "yield a fresh, empty AttachmentStore"
        )
        yield  # noqa: PT022  # pragma: no cover

    def test_put_bytes_read_back_equal_by_their_sha256(
        self, attachment_store: AttachmentStore
    ) -> None:
        @_settings
        @given(data=st.binary(max_size=4096), name=st.sampled_from(["a.pdf", "счёт.txt", "x"]))
        def check(data: bytes, name: str) -> None:
            a = attachment_store.put(data, filename=name, content_type="application/pdf")
            assert a.sha256 == hashlib.sha256(data).hexdigest()
            assert (a.filename, a.content_type, a.size) == (name, "application/pdf", len(data))
            assert attachment_store.exists(a.sha256)
            assert attachment_store.get(a.sha256) == data

        check()

    def test_the_same_content_is_kept_once_under_any_name(
        self, attachment_store: AttachmentStore
    ) -> None:
        a = attachment_store.put(b"same", filename="a.txt", content_type="text/plain")
        b = attachment_store.put(b"same", filename="b.bin", content_type="application/octet-stream")
        assert a.sha256 is not None
        assert a.sha256 == b.sha256
        assert (a.filename, b.filename) == ("a.txt", "b.bin")
        assert attachment_store.get(a.sha256) == b"same"

    def test_unknown_content_is_not_found(self, attachment_store: AttachmentStore) -> None:
        digest = hashlib.sha256(b"never stored").hexdigest()
        assert not attachment_store.exists(digest)
        assert digest not in attachment_store
        with pytest.raises(NotFound, match=digest):
            attachment_store.get(digest)

    @pytest.mark.parametrize("bad", ["", "../../etc/passwd", "AB" * 32, "a" * 63, "g" * 64])
    def test_a_key_that_is_not_a_sha256_is_refused(
        self, attachment_store: AttachmentStore, bad: str
    ) -> None:
        with pytest.raises(ValidationError, match="sha256"):
            attachment_store.get(bad)
        with pytest.raises(ValidationError, match="sha256"):
            attachment_store.exists(bad)
        assert bad not in attachment_store

    def test_put_refuses_a_missing_filename_or_a_malformed_content_type(
        self, attachment_store: AttachmentStore
    ) -> None:
        with pytest.raises(ValidationError, match="filename"):
            attachment_store.put(b"x", filename=" ", content_type="text/plain")
        with pytest.raises(ValidationError, match="content type"):
            attachment_store.put(b"x", filename="a.txt", content_type="text/plain\r\nBcc: x")

    def test_concurrent_puts_of_one_content_keep_it_whole(
        self, attachment_store: AttachmentStore
    ) -> None:
        data = bytes(range(256)) * 512
        errors: list[BaseException] = []

        def put() -> None:
            try:
                attachment_store.put(data, filename="big.bin", content_type="application/zip")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=put) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert attachment_store.get(hashlib.sha256(data).hexdigest()) == data
