"""supportkit.metrics."""
