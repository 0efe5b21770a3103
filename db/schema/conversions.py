"""Migrations that rewrite many stored rows: too big for one transaction, so they go in batches.

A Conversion is one entry of an engine's MIGRATIONS. Each of its steps runs in a transaction of its
own: `begin` (schema changes, idempotent), then `batch` until it converts nothing more, then `end` in the
transaction that records the schema version. A process killed between two commits loses nothing: the
next start runs `begin` again and the batches carry on from what is left. Progress and the database's
size before and after go to stderr, where the operator starting Footfall sees them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from db.backends.base import Connection

T = TypeVar("T")


@dataclass(frozen=True)
class Conversion:
    """A migration of many rows, in steps (the module's docstring)."""

    name: str                                # what it converts, for the progress lines
    begin: Callable[[Connection], None]      # schema changes before the first batch; idempotent
    batch: Callable[[Connection], int]       # converts the next batch; rows converted, 0 when none are left
    end: Callable[[Connection], None]        # after the last batch, with the version recorded
    rewrote: tuple[str, ...] = ()            # PostgreSQL: the tables VACUUM FULL shrinks afterwards


class MigratedElsewhere(Exception):
    """Another process finished this migration while this one waited for the lock."""


def run_conversion(conn: Connection, conversion: Conversion, atomically: Callable[[Callable[[], T], bool], T],
                   stored_bytes: Callable[[], int], finish: Callable[[], None] = lambda: None) -> None:
    """Run a conversion's steps, each through `atomically(step, last)`: a transaction, which records
    the version when `last`, and raises MigratedElsewhere when another process got there first.
    `finish` runs after the last commit, outside any transaction (SQLite's VACUUM, PostgreSQL's
    VACUUM FULL): the bytes freed go back to the disk."""
    before = stored_bytes()
    converted, started, reported = 0, time.monotonic(), time.monotonic()
    try:
        atomically(lambda: conversion.begin(conn), False)
        while rows := atomically(lambda: conversion.batch(conn), False):
            if not converted:  # a new database, with nothing to convert, says nothing
                report(f"{conversion.name}: converting ({megabytes(before)} stored)")
            converted += rows
            if time.monotonic() - reported >= 5:
                report(f"{conversion.name}: {converted:,} rows converted")
                reported = time.monotonic()
        atomically(lambda: conversion.end(conn), True)
    except MigratedElsewhere:
        return
    if not converted:
        return
    finish()
    after = stored_bytes()
    report(f"{conversion.name}: {converted:,} rows converted in {time.monotonic() - started:.0f} s;"
           f" database {megabytes(before)} -> {megabytes(after)}")


def megabytes(size: int) -> str:
    """A size as the progress lines give it."""
    return f"{size / 1e6:,.1f} MB"


def report(line: str) -> None:
    """One progress line for the operator."""
    print(f"footfall: {line}", file=sys.stderr, flush=True)
