"""pytest plugin entry point: makes the contract suites' fixtures available."""
