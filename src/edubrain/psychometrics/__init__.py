"""Psychometric models on NumPy/SciPy, knowing no entity: classical test theory (CTT) item
analysis, item response theory (IRT) calibration, scoring and scale linking, multilevel
value-added models and cognitive diagnosis models. The exams module feeds them arrays read from
the warehouse and turns their results into reports, indicators and pages."""
