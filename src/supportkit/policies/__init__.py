"""supportkit.policies."""
