"""The provenance check page: anyone signed in chooses a file (and its sidecar) and sees whether its provenance holds.

The upload is written straight into a temporary directory under fixed names (never the sender's filename), checked
with `assets.provenance.verify`, and the directory is removed before the response leaves: nothing is kept, and no
database row is read, so a partner learns only what the file they sent says about itself.

The size limit is checked on Content-Length before a byte of the body is read. CSRF middleware would otherwise parse
the whole multipart body first (it reads request.POST), so the view is exempt and runs the CSRF check itself after the
size check, the pattern Django documents for changing upload handlers in a view.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from assets import provenance
from assets.templatetags.asset_tags import display_filename, human_size

#: Read at request time, so tests (and a deployment's monkeypatch, if ever needed) can change it.
MAX_VERIFY_BYTES = 512 * 1024**2
#: A sidecar is a small JSON record; anything bigger is not one, and is not read into memory.
MAX_SIDECAR_BYTES = 1024**2
SAFE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".mp4", ".mov", ".srt", ".vtt", ".json", ".csv", ".edl", ".otio", ".txt", ".pdf", ".html"}
)
FILE_FIELD, SIDECAR_FIELD = "file", "sidecar"
TEMPLATE = "assets/provenance_verify.html"

_IPTC_SOURCE_TYPES = {
    "trainedAlgorithmicMedia": "Made by an AI model (trained algorithmic media)",
    "compositeWithTrainedAlgorithmicMedia": (
        "Combines AI-made and other material (composite with trained algorithmic media)"
    ),
    "algorithmicMedia": "Made by software without a trained model (algorithmic media)",
    "compositeSynthetic": "Combines synthetic and other material (composite synthetic)",
    "digitalCapture": "Captured by a camera or recorder (digital capture)",
    "humanEdits": "Edited by a person (human edits)",
}
_TRAINING_ENTRIES = {
    "cawg.ai_training": "Training AI models",
    "cawg.ai_generative_training": "Training generative AI models",
    "cawg.ai_inference": "Use as input to an AI model (inference)",
    "cawg.data_mining": "Data mining",
}
_USES = {"notAllowed": "Not allowed", "allowed": "Allowed", "constrained": "Allowed with conditions"}

_CHANGED_AFTER_SIGNING = (
    "The file was changed after it was signed: its bytes no longer match the ones the signature covers."
)
_C2PA_CODES = {
    "assertion.dataHash.mismatch": _CHANGED_AFTER_SIGNING,
    "assertion.bmffHash.mismatch": _CHANGED_AFTER_SIGNING,
    "assertion.boxesHash.mismatch": _CHANGED_AFTER_SIGNING,
    "assertion.hashedURI.mismatch": "Part of the manifest was changed after it was signed.",
    "claimSignature.mismatch": "The manifest's signature does not match its content: the manifest was changed.",
    "claimSignature.missing": "The manifest carries no signature.",
    "signingCredential.untrusted": (
        "The file is signed, but not by a signer this portal trusts: the certificate does not lead to a trusted root."
    ),
    "signingCredential.expired": "The signing certificate had expired when the file was signed.",
    "signingCredential.revoked": "The signing certificate has been revoked.",
    "signingCredential.invalid": "The signing certificate is not one that may sign C2PA manifests.",
}
_C2PA_CODE = re.compile(r"^([A-Za-z]+(?:\.[A-Za-z]+)+): ")
#: Messages `provenance.verify` writes itself, by a fragment each contains, in the words a person checks against.
_MESSAGES = (
    ("the C2PA manifest cannot be read", "The file carries C2PA data, but it is damaged and cannot be read."),
    ("has no active manifest", "The file's C2PA data has no active manifest to check."),
    ("C2PA validation state is", "The C2PA check did not pass."),
    (
        "differs from the one in",
        "The file's SHA-256 differs from the one recorded in its sidecar: the file was changed after the sidecar was "
        "written, or the sidecar belongs to another file.",
    ),
    (
        "the sidecar says a C2PA manifest was embedded",
        "The sidecar says the file carried a signed C2PA manifest, but the file has none: it was probably re-saved or "
        "re-encoded, which removes the manifest.",
    ),
    (
        "no C2PA manifest in the file and no sidecar",
        "The file has no embedded C2PA manifest and no sidecar was chosen, so there is nothing to check it against. "
        "If it came with a .c2pa file (or a .provenance.json file), choose that as well.",
    ),
    ("is not valid JSON", "The sidecar is not valid JSON, so it could not be read."),
    ("has no sha256", "The sidecar does not record the file's SHA-256, so it cannot vouch for the file."),
)


def temp_name(filename: str) -> str:
    """The fixed name the upload is saved under: `file` plus its extension when that is on the allow-list."""
    extension = Path(filename.replace("\\", "/").rsplit("/", 1)[-1]).suffix.lower()
    return f"file{extension}" if extension in SAFE_EXTENSIONS else "file.bin"


@dataclass
class _Received:
    filename: str
    path: Path
    size: int


class _TempDirUploadHandler(FileUploadHandler):
    """Writes the file and the sidecar straight into `directory`; every other uploaded field is skipped."""

    def __init__(self, directory: Path, request=None):
        super().__init__(request)
        self.directory = directory
        self.received: dict[str, _Received] = {}
        self._out = None

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name not in (FILE_FIELD, SIDECAR_FIELD) or field_name in self.received:
            raise SkipFile
        self._out = (self.directory / f"upload-{field_name}").open("xb")

    def receive_data_chunk(self, raw_data, start):
        self._out.write(raw_data)

    def file_complete(self, file_size):
        self._out.close()
        self._out = None
        path = self.directory / f"upload-{self.field_name}"
        self.received[self.field_name] = _Received(self.file_name, path, file_size)
        # Nothing goes into request.FILES: the view reads `received`.

    def upload_interrupted(self):
        if self._out is not None:
            self._out.close()
            self._out = None


@login_required
@require_http_methods(["GET", "POST"])
@csrf_exempt  # checked in _check below, after the size check: see the module docstring
def provenance_verify(request):
    limit = MAX_VERIFY_BYTES
    if request.method == "GET":
        return _page(request)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        message = (
            f"This check takes files up to {_size(limit)}; this upload is {human_size(length)}. "
            "Choose a smaller file, or ask the programme team to check it for you."
        )
        return _page(request, errors={FILE_FIELD: message}, status=413)
    with tempfile.TemporaryDirectory(prefix="gl-provenance-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        handler = _TempDirUploadHandler(Path(tmp), request)
        request.upload_handlers = [handler]
        try:
            # The response is rendered in full before the directory goes.
            return _check(request, handler, Path(tmp))
        except MultiPartParserError:
            return _page(request, errors={FILE_FIELD: "The upload could not be read. Please try again."}, status=400)


@csrf_protect
def _check(request, handler: _TempDirUploadHandler, directory: Path):
    request.POST  # noqa: B018  (parses the body through the handler, if the CSRF check has not already)
    upload, sidecar = handler.received.get(FILE_FIELD), handler.received.get(SIDECAR_FIELD)
    errors = {}
    if upload is None:
        errors[FILE_FIELD] = "Choose a file to check."
    elif upload.size == 0:
        errors[FILE_FIELD] = "The file is empty."
    if sidecar is not None and sidecar.size > MAX_SIDECAR_BYTES:
        errors[SIDECAR_FIELD] = (
            f"This is not a provenance sidecar: those are small JSON files, and this one is {human_size(sidecar.size)}."
        )
    if errors:
        return _page(request, errors=errors, status=400)

    path = directory / temp_name(upload.filename)
    upload.path.rename(path)
    if sidecar is not None:  # a `.c2pa` manifest store, or the older JSON summary: told apart by their bytes
        sidecar.path.rename(provenance.sidecar_path(path) if _is_json(sidecar.path) else provenance.manifest_path(path))
    result = provenance.verify(path)
    return _page(request, check=_describe(result, path, upload, sidecar))


def _is_json(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(64).lstrip().startswith(b"{")


def _describe(result: provenance.VerificationResult, path: Path, upload: _Received, sidecar: _Received | None) -> dict:
    """What the page shows about one check, in words; names are the sender's (for display), never the temp ones."""
    summary, readable = _summary(result)
    run = summary.get("run") if isinstance(summary.get("run"), dict) else {}
    name = display_filename(upload.filename)
    sidecar_name = display_filename(sidecar.filename) if sidecar else ""
    expected_sidecar = f"{name}{provenance.SIDECAR_SUFFIX}"
    renames = [(provenance.sidecar_path(path).name, sidecar_name or expected_sidecar),
               (provenance.manifest_path(path).name, sidecar_name or f"{name}{provenance.MANIFEST_SUFFIX}"),
               (path.name, name)]  # fmt: skip
    training = summary.get("training_mining") if isinstance(summary.get("training_mining"), dict) else {}
    inputs = run.get("inputs_sha256") if isinstance(run.get("inputs_sha256"), list) else []
    return {
        "valid": result.valid,
        "filename": name,
        "size": upload.size,
        "sha256": provenance.sha256_file(path),
        "embedded": result.embedded,
        "validation_state": _text(result.validation_state),
        "sidecar_name": sidecar_name,
        "sidecar_used": result.sidecar is not None,
        "sidecar_name_differs": bool(sidecar)
        and sidecar_name not in (expected_sidecar, f"{name}{provenance.MANIFEST_SUFFIX}"),
        "from_manifest_sidecar": result.from_manifest_sidecar,
        "action": _text(summary.get("action")),
        "software_agent": _text(summary.get("software_agent")),
        "ingredients": [i for i in summary.get("ingredients") or [] if isinstance(i, dict)],
        "expected_sidecar": expected_sidecar,
        "record_readable": readable,
        "signer": _text(summary.get("signer")),
        "tool": _text(summary.get("tool")),
        "tool_version": _text(summary.get("tool_version")),
        "source_type": source_type_words(_text(summary.get("digital_source_type"))),
        "source_type_uri": _text(summary.get("digital_source_type")),
        "training_mining": [
            {
                "entry": str(entry),
                "label": _TRAINING_ENTRIES.get(str(entry), str(entry)),
                "use": _USES.get(_text(use) or "", _text(use) or "Not stated"),
            }
            for entry, use in sorted(training.items(), key=lambda item: str(item[0]))
        ],
        "inputs_sha256": [str(digest) for digest in inputs],
        "studio_id": _text(run.get("organization")),
        "job_id": _text(run.get("job_id")),
        "created_at": _when(run.get("created_at")),
        "errors": [_plain(error, renames) for error in result.errors],
        "raw_manifest": _json(result.manifest),
        "raw_sidecar": _json(result.sidecar),
    }


def _summary(result: provenance.VerificationResult) -> tuple[dict, bool]:
    """The manifest's (or sidecar's) facts; a record in an unexpected shape is reported, not a server error.

    The sidecar and the manifest come from the sender: anything at all can be in them.
    """
    try:
        return provenance.manifest_summary(result), True
    except (AttributeError, TypeError, ValueError):
        return {}, False


def _text(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, str | int | float) else None


def _when(value):
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def source_type_words(uri: str | None) -> str | None:
    if not uri:
        return None
    term = str(uri).rstrip("/").rsplit("/", 1)[-1]
    return _IPTC_SOURCE_TYPES.get(term, term)


def _plain(error: str, renames: list[tuple[str, str]]) -> dict:
    """One verification error as a sentence, with the technical message (in the sender's names) as its detail."""
    detail = error
    for temp, shown in renames:
        detail = detail.replace(temp, shown)
    code = _C2PA_CODE.match(error)
    if code:
        sentence = _C2PA_CODES.get(code.group(1), f"The C2PA check failed ({code.group(1)}).")
    else:
        sentence = next((words for fragment, words in _MESSAGES if fragment in error), "The check failed.")
    return {"sentence": sentence, "detail": detail}


def _json(data: dict | None) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) if data is not None else ""


def _size(size: int) -> str:
    """A limit in words: "512 MB" rather than "512.0 MB" when it is a whole number."""
    return f"{size // 1024**2} MB" if size >= 1024**2 and size % 1024**2 == 0 else human_size(size)


def _page(request, *, check: dict | None = None, errors: dict | None = None, status: int = 200):
    context = {
        "check": check,
        "errors": errors or {},
        "max_size": _size(MAX_VERIFY_BYTES),
        # Said plainly on the page: the development chain is trusted by this portal only.
        "dev_chain": provenance.uses_dev_chain(),
    }
    return render(request, TEMPLATE, context, status=status)
