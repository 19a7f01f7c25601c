"""Test helpers for supportkit and for plugin authors.

- :class:`StorageContract`: subclass it and override the ``storage`` fixture
  to run the storage contract suite against a backend.
- :class:`AttachmentStoreContract`: the same for an
  :class:`~supportkit.ports.AttachmentStore` (override ``attachment_store``).
- :func:`desk_state_machine`: a hypothesis stateful test driving a
  :class:`~supportkit.SupportDesk` on any backend against a reference model.
- :mod:`supportkit.testing.strategies`: hypothesis strategies for the
  domain's values.
- The pytest plugin (``supportkit.testing.plugin``, loaded automatically)
  provides the ``fake_clock``, ``make_desk`` and ``desk`` fixtures.
"""

from ._attachments import AttachmentStoreContract
from ._contract import StorageContract
from ._contract_guarantees import STORAGE_CAPABILITIES
from ._stateful import DeskStateMachine, desk_state_machine

__all__ = [
    "STORAGE_CAPABILITIES",
    "AttachmentStoreContract",
    "DeskStateMachine",
    "StorageContract",
    "desk_state_machine",
]
