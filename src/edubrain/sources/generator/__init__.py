"""The synthetic region generator: realistic, messy source exports plus their ground truth.

`generate_region(out, students=..., seed=...)` writes OUT/exports (each source system's own
files, rendered from the standard through the mappings, with injected faults), OUT/standard
(files for entities no source exports) and OUT/truth (what a perfect ingest holds, the fault
manifest and a README). Same seed, same bytes.
"""

from edubrain.sources.generator.faults import EXPECTED_REASON, FaultRates
from edubrain.sources.generator.pipeline import (
    GenerationSummary,
    GeneratorError,
    export_file_name,
    generate_region,
)

__all__ = [
    "EXPECTED_REASON",
    "FaultRates",
    "GenerationSummary",
    "GeneratorError",
    "export_file_name",
    "generate_region",
]
