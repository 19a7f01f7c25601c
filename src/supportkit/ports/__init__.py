"""supportkit.ports."""
