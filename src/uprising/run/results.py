"""Result files: Parquet time series that carry their provenance in the file's metadata.

Files are written to a temporary name and renamed, so an interrupted run never leaves a partial
file behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

META_KEY = b"uprising"


def write_timeseries(ds: xr.Dataset, path: Path) -> Path:
    """The series of a run (one row per step, or per hour and city) as Parquet, with version,
    scenario hash, rules and seed in the file's metadata. Grids (y, x) are left out."""
    series = [v for v in ds.data_vars if not {"y", "x"} & set(ds[v].dims)]
    return write_table(ds[series].to_dataframe().reset_index(), path, dict(ds.attrs))


def write_table(frame: pd.DataFrame, path: Path, meta: dict[str, Any]) -> Path:
    """A table as Parquet with `meta` (provenance) in the file's metadata, written atomically:
    to a temporary name in the same folder, then renamed."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    plain = {k: (v if isinstance(v, str | int | float) else str(v)) for k, v in meta.items()}
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: json.dumps(plain).encode()}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_metadata(path: Path) -> dict[str, object]:
    return json.loads(pq.read_schema(path).metadata[META_KEY])
