"""Evals in the core: assertion grading, judge parsing, summaries and regressions. No network, no Qt."""
