"""edubrain.standard."""
