"""Public data: the registry (where each file lives, what it hashes to) and typed readers."""

from alpaca_lessons.data.records import (
    Instance,
    Record,
    Row,
    SeedTask,
    parse_seed_tasks,
    read_records,
    read_rows,
    read_seed_tasks,
    read_text,
    write_records,
)
from alpaca_lessons.data.registry import (
    DATASETS,
    Dataset,
    cache_dir,
    get_dataset,
    locate,
    mirror_dir,
    verify_all,
)

__all__ = [
    "DATASETS", "Dataset", "Instance", "Record", "Row", "SeedTask", "cache_dir", "get_dataset",
    "locate", "mirror_dir", "parse_seed_tasks", "read_records", "read_rows", "read_seed_tasks", "read_text",
    "verify_all", "write_records",
]
