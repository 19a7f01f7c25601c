"""supportkit.channels."""
