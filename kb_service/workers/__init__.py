"""Background work: ingest jobs, webhook delivery, meeting indexing."""
