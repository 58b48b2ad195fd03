"""The data path: an append-only, crash-safe spool per writer, and its shipper."""
