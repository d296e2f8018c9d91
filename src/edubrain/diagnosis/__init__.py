"""学情诊断: knowledge tracing models, the knowledge graph, and diagnosis outputs.

Sits at the models layer: reads the warehouse through its interface, never the CLI or service.
"""

from edubrain.diagnosis.base import KnowledgeTracer, load_model
from edubrain.diagnosis.bkt import BKT
from edubrain.diagnosis.logistic import IRT1PL, PFA, BestLR
from edubrain.diagnosis.responses import ResponseLog, roc_auc

__all__ = [
    "BKT",
    "IRT1PL",
    "PFA",
    "BestLR",
    "KnowledgeTracer",
    "ResponseLog",
    "load_model",
    "roc_auc",
]
