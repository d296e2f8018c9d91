"""edubrain.ingest."""
