"""The production deployment on one machine (deploy/run, `make prod`), and own PostgreSQL and Redis
instances for it, the deployment tests and the peak benchmark (deploy/services.py)."""
