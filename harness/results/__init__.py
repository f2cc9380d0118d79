"""What a run leaves behind: the one Parquet schema (derived from :class:`~harness.results.schema.RunRecord`), atomic
writes and checked reads, the key (what / where / software) and the environment fingerprint. No torch. Imports only
:mod:`harness.base`.
"""
