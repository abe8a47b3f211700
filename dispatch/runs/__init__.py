"""Solver runs: weekly plans and what-ifs, queued by the API and run by the job worker, with
progress on their row (see README "Jobs")."""
