"""Paper-style tables and PNG plots from a run or multirun dir (`hyperofa-report`)."""

from hyperofa.report.collect import Job, Row, collect, find_results
from hyperofa.report.tables import full_table, headline_table, per_language_csv
from hyperofa.report.write import Report, row_record, write_report

__all__ = [
    "Job",
    "Report",
    "Row",
    "collect",
    "find_results",
    "full_table",
    "headline_table",
    "per_language_csv",
    "row_record",
    "write_report",
]
