"""Import previous studies from Optuna, CSV, Parquet or pandas; export studies to them.

An imported study is a normal study in the trial store (its attrs say where it
came from), so it can be the previous study of ``create_study``. Exports write
a study's trials as a DataFrame, a CSV or Parquet file, or a new Optuna study
that Optuna's own tools can show.
"""

from __future__ import annotations

from hptaa_lab.interop._common import ImportResult, InteropError, format_space
from hptaa_lab.interop._export import export_csv, export_dataframe, export_parquet
from hptaa_lab.interop._optuna import export_optuna, import_optuna
from hptaa_lab.interop._tables import (
    import_csv,
    import_dataframe,
    import_parquet,
    infer_space,
)

__all__ = [
    "ImportResult",
    "InteropError",
    "export_csv",
    "export_dataframe",
    "export_optuna",
    "export_parquet",
    "format_space",
    "import_csv",
    "import_dataframe",
    "import_optuna",
    "import_parquet",
    "infer_space",
]
