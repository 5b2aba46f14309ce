"""Parts of the runtime built from settings: the vector index and the ingest limits."""

from __future__ import annotations

from ingest.archives import ArchiveLimits
from ingest.ocr import OcrLimits
from ingest.parser_pool import ParseLimits
from kb_service.settings import Settings
from retrieval.index import VectorIndex


def build_index(settings: Settings, dimension: int) -> VectorIndex:
    """Qdrant server when `KB_QDRANT_URL` is set, else the embedded Qdrant Edge shard."""
    if settings.storage.qdrant_url:
        from retrieval.index.server import QdrantServerIndex

        return QdrantServerIndex.connect(
            url=settings.storage.qdrant_url,
            api_key=settings.storage.qdrant_api_key,
            collection=settings.storage.qdrant_collection,
            dimension=dimension,
        )
    from retrieval.index.edge import EdgeVectorIndex

    return EdgeVectorIndex(settings.qdrant_edge_path, dimension)


def archive_limits(settings: Settings) -> ArchiveLimits:
    ingest = settings.ingest
    return ArchiveLimits(
        max_uncompressed_bytes=int(ingest.archive_max_uncompressed_mb * 1024 * 1024),
        max_entries=ingest.archive_max_entries,
        max_ratio=ingest.archive_max_ratio,
    )


def ocr_limits(settings: Settings) -> OcrLimits:
    return OcrLimits(max_image_pixels=int(settings.ingest.ocr_max_image_megapixels * 1e6))


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        timeout_seconds=settings.ingest.parse_timeout_seconds,
        max_memory_mb=settings.ingest.parse_max_memory_mb,
    )
