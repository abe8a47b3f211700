"""The district office's reports: coverage tables, lesson records, teaching hours, the monthly report."""
