"""Paper-style tables and PNG plots from a run or multirun dir (`hyperofa-report`)."""

from hyperofa.report.collect import Job, Row, collect, find_results
from hyperofa.report.tables import headline_table, per_language_csv
from hyperofa.report.write import Report, write_report

__all__ = [
    "Job",
    "Report",
    "Row",
    "collect",
    "find_results",
    "headline_table",
    "per_language_csv",
    "write_report",
]
