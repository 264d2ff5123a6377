"""The readings store: validated, idempotent, transactional ingestion of parsed batches."""

from gmina.water.store.ingest import DEFAULT_TOLERANCE_L, ImportResult, RecordIssue, ingest_batches

__all__ = ["DEFAULT_TOLERANCE_L", "ImportResult", "RecordIssue", "ingest_batches"]
