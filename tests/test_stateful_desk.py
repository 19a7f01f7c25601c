"""The desk on memory storage, driven by random use-case sequences against a reference model."""

from hypothesis import settings

from supportkit import MemoryStorage
from supportkit.testing import desk_state_machine

DeskOnMemory = desk_state_machine(MemoryStorage)
DeskOnMemory.TestCase.settings = settings(
    settings.default, stateful_step_count=40, max_examples=max(settings.default.max_examples, 40)
)
TestDeskOnMemory = DeskOnMemory.TestCase
