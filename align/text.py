"""Read documents as users get them from Kazakh and Russian sites, and normalise them.

Encodings seen in the wild: UTF-8 (with or without BOM), UTF-16, cp1251 and
KOI8-R. We detect them with charset-normalizer, say which one was used when it
was not UTF-8, and normalise only what breaks alignment without changing
meaning (NFC, line endings, exotic spaces, soft hyphens, zero-width
characters). Line and paragraph structure is kept.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

# Encodings we accept from detection; anything else on Cyrillic text is almost
# always a mis-detection of one of these.
CANDIDATE_ENCODINGS = ("utf_8", "cp1251", "koi8_r", "koi8_u", "kz1048", "mac_cyrillic", "cp866", "iso8859_5")
MAX_BYTES = 512 * 1024 * 1024

_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\v\f]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff\u180e]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Document:
    """A decoded, normalised document. ``text`` is what offsets refer to."""

    path: str
    text: str
    encoding: str

    @property
    def lines(self) -> list[str]:
        """Non-empty stripped lines: the sentences of a ``--presplit`` file."""
        return [line.strip() for line in self.text.split("\n") if line.strip()]


def normalise(text: str) -> str:
    """NFC, ``\\n`` line endings, plain spaces; drop soft hyphens, zero-width and control chars."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _printable_share(text: str) -> float:
    ok = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return ok / max(len(text), 1)


def _try_bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """Text with NUL bytes is binary unless it decodes as clean UTF-16 without a BOM."""
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        sample = text[:4000]
        letters = sum(ch.isalpha() or ch.isspace() for ch in sample)
        if _printable_share(sample) > 0.98 and letters > 0.6 * len(sample):
            return text, codec
    return None


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding name). Raises InputError for binary or undecodable data."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(name, f"broken UTF-16 at byte {exc.start}") from exc
    if b"\x00" in data[:8192]:
        decoded = _try_bomless_utf16(data)
        if decoded is None:
            raise InputError(name, "looks like a binary file, not text")
        return decoded
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(CANDIDATE_ENCODINGS)).best()
    if best is None:
        raise InputError(name, "cannot decode: not UTF-8, UTF-16, cp1251 or KOI8-R text")
    text = str(best)
    if _printable_share(text[:10000]) < 0.95:
        raise InputError(name, "looks like a binary file, not text")
    return text, best.encoding


def read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    if p.is_dir():
        raise InputError(path, "is a directory, expected a text file")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise InputError(path, f"too large ({size / 2**20:.0f} MiB > {MAX_BYTES // 2**20} MiB); split it first")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc


HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def html_main_text(html: str, name: str) -> str:
    """The main text of a crawled page (menus, footers, scripts left out), one paragraph
    per line, by trafilatura; a page without any is a one-line error."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True)
    if not text or not text.strip():
        raise InputError(name, "no main text found in the HTML page")
    return text


def read_document(path: str, *, warn=None) -> Document:
    """Read, decode and normalise one file (``-`` is stdin); ``.html``/``.htm`` files are
    crawled pages, read as their main text (:func:`html_main_text`).

    ``warn`` (a callable taking a message) is told when the encoding was not UTF-8.
    """
    name = "<stdin>" if path == "-" else str(path)
    text, encoding = decode(read_bytes(path), name)
    if Path(name).suffix.lower() in HTML_SUFFIXES:
        text = html_main_text(text, name)
    text = normalise(text)
    if not text.strip():
        raise InputError(name, "is empty (no text after decoding)")
    if warn and not encoding.startswith("utf"):
        warn(f"{name}: decoded as {encoding}")
    return Document(path=name, text=text, encoding=encoding)


__all__ = ["Document", "read_document", "decode", "normalise"]
