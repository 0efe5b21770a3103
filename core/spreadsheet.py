"""CSV that a spreadsheet opens as data: a text cell that starts like a formula is escaped.

Excel, LibreOffice and Google Sheets run a cell that starts with =, +, - or @ (and, in some, a tab
or a carriage return) as a formula, which can fetch URLs or run commands. Paths, user agents and
customer names come from traffic, so anyone who can call the API could plant one. Such a cell gets
a leading apostrophe, the spreadsheets' own "this is text" mark (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = r"^[=+\-@\t\r]"  # the same, for polars


def safe_cell(value: object) -> object:
    """The value, with a leading apostrophe when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """safe_cell for every text column of the frame."""
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_PATTERN)).then(pl.lit("'") + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items() if dtype == pl.Utf8
    )
