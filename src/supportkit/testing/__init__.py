"""supportkit.testing."""
