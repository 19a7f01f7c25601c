"""supportkit.domain."""
