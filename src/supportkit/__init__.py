"""supportkit: customer support as a library."""

__all__: list[str] = []
