"""CSV cells that a spreadsheet would run as a formula are escaped; everything else is left alone."""

import polars as pl
import pytest

from core.spreadsheet import safe_cell, safe_frame

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]
HARMLESS = ["/api/items/1", "Acme Corp", "a=b", "x+y", "user@example.com", ""]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text
    assert safe_frame(pl.DataFrame({"cell": [text]}))["cell"][0] == "'" + text


@pytest.mark.parametrize("value", [*HARMLESS, -5, 3.5, None])
def test_other_values_are_kept_as_they_are(value):
    assert safe_cell(value) == value
    frame = pl.DataFrame({"cell": [value]})
    assert safe_frame(frame).equals(frame)
