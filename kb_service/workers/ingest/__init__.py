"""Ingest jobs, worker side: claiming under leases, processing, closing a job."""
