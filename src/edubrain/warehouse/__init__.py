"""edubrain.warehouse."""
