"""supportkit.knowledge."""
