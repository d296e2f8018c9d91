"""edubrain.cli."""
