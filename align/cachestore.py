"""One SQLite cache store that survives damage, shared by the embedding and translation caches.

A cache must never break a run or change its result. So: a file SQLite cannot
read (truncated, overwritten, not a database) is moved aside and a new one
started, with a warning naming both paths; every row carries a checksum of its
key and value, and rows that fail it (or the caller's own check of the value)
are left out of lookups, so they are recomputed and rewritten, with one warning
counting them. Rows written by earlier versions (a table without checksums) are
still read, checked by the caller's check alone.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

Warn = Callable[[str], None]

# SQLite's primary result codes for a damaged file (extended codes share the low byte).
_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_LOOKUP_CHUNK = 500  # keys per SELECT: below SQLite's bound-parameter limit


def silent(message: str) -> None:
    pass


def default_cache_dir() -> Path:
    base = os.environ.get("KKRU_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kkru")
    return Path(base)


def text_key(text: str) -> bytes:
    """The row key of a text: its hash, so long texts make small keys."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


@dataclass(frozen=True)
class Table:
    """A cache table: scope columns (e.g. the model), a ``key`` BLOB, one value column
    and a ``checksum`` column. ``legacy``: the same table without checksums, as
    earlier versions wrote it; read when a key is not in ``name``, never written
    (so earlier versions sharing the file keep working)."""

    name: str
    scope: tuple[str, ...]
    value: str
    value_type: str
    legacy: str | None = None

    def create_sql(self) -> str:
        scope = ", ".join(f"{c} TEXT" for c in self.scope)
        return (f"CREATE TABLE IF NOT EXISTS {self.name} ({scope}, key BLOB, {self.value} {self.value_type}, "
                f"checksum BLOB, PRIMARY KEY ({', '.join(self.scope)}, key))")


def checksum(scope: Sequence[str], key: bytes, value: bytes) -> bytes:
    """Covers the key too, so a value that ended up under another key is caught."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (*(s.encode("utf-8") for s in scope), key, value):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.digest()


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGED


class CacheStore:
    """One table of a SQLite cache file (``path`` None: in memory, for one run)."""

    def __init__(self, path: str | os.PathLike | None, table: Table, warn: Warn = silent) -> None:
        self.path = str(path) if path is not None else ":memory:"
        self.table = table
        self.warn = warn
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
            self._db = self._replace_damaged(exc)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            if self.path != ":memory:":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute(self.table.create_sql())
        except BaseException:
            db.close()
            raise
        return db

    def _replace_damaged(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        """Move the unreadable file (and its write-ahead log) aside and start a new one."""
        if getattr(self, "_db", None) is not None:
            self._db.close()
        aside = f"{self.path}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}"
        for suffix in ("", "-wal", "-shm"):  # an old log must not be replayed into the new file
            try:
                os.replace(self.path + suffix, aside + suffix)
            except FileNotFoundError:  # no log, or another run moved it first
                pass
        self.warn(f"{self.path}: damaged cache file ({exc}); moved it to {aside} and started a new one")
        return self._open()

    def _run(self, operation: Callable[[sqlite3.Connection], object]):
        """Run ``operation``; if the file turns out damaged, replace it and run it again."""
        try:
            return operation(self._db)
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
            self._db = self._replace_damaged(exc)
            return operation(self._db)

    def get(self, scope: Sequence[str], keys: Iterable[bytes],
            valid: Callable[[bytes], bool] = lambda value: True) -> dict[bytes, bytes]:
        """The stored values of ``keys`` (as bytes) that pass the checksum and ``valid``."""
        scope = tuple(scope)
        wanted = list(dict.fromkeys(keys))
        found: dict[bytes, bytes] = {}
        damaged = 0
        sources = [(self.table.name, "checksum")]
        if self.table.legacy and self._has_table(self.table.legacy):
            sources.append((self.table.legacy, "NULL"))  # no checksums there: ``valid`` alone
        for table, checksum_column in sources:
            for key, value, stored_sum in self._select(table, checksum_column, scope,
                                                       [k for k in wanted if k not in found]):
                if (stored_sum is not None and stored_sum != checksum(scope, key, value)) or not valid(value):
                    damaged += 1
                else:
                    found[key] = value
        if damaged:
            self.warn(f"{self.path}: {damaged} damaged cache entr{'y' if damaged == 1 else 'ies'} "
                      f"ignored; recomputing {'it' if damaged == 1 else 'them'}")
        return found

    def _has_table(self, name: str) -> bool:
        return bool(self._run(lambda db: db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone()))

    def _select(self, table: str, checksum_column: str, scope: tuple[str, ...], keys: list[bytes]):
        """(key, value as bytes, stored checksum) rows of ``keys``, a few hundred per query."""
        where = " AND ".join(f"{c} = ?" for c in self.table.scope)
        for i in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[i:i + _LOOKUP_CHUNK]
            sql = (f"SELECT key, CAST({self.table.value} AS BLOB), {checksum_column} FROM {table} "
                   f"WHERE {where} AND key IN ({','.join('?' * len(chunk))})")
            for key, value, stored_sum in self._run(lambda db: db.execute(sql, [*scope, *chunk]).fetchall()):
                yield key, bytes(value or b""), stored_sum

    def put(self, scope: Sequence[str], rows: Iterable[tuple[bytes, bytes | str]]) -> None:
        """Store (key, value) rows with their checksums; str values are stored as text."""
        scope = tuple(scope)
        records = [(*scope, key, value, checksum(scope, key, _as_bytes(value))) for key, value in rows]
        marks = ", ".join("?" * (len(scope) + 3))

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(f"INSERT OR REPLACE INTO {self.table.name} VALUES ({marks})", records)

        self._run(write)

    def close(self) -> None:
        self._db.close()
