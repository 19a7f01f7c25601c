"""supportkit.storage."""
