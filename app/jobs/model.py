"""Job-clock tables (filled in by the job clock's author)."""
