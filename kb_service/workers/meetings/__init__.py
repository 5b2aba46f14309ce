"""Meeting indexing: live segments made searchable, ended meetings indexed in full."""
