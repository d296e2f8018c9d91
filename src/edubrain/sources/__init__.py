"""edubrain.sources."""
