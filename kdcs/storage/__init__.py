"""Stored uploads shared by features (ticket evidence now, 病假条 for leave later).

``save_upload`` decides a file's type from its content (magic bytes, never the
name or the browser's Content-Type): JPEG, PNG, WebP, PDF, Excel (.xlsx) and MP4 (lesson videos only).
Anything else, a renamed .exe / .html / .svg / .txt included, is refused with a
Chinese message. Images are decoded and written again without their metadata
(EXIF, GPS, comments), turned upright first. Files live under the instance
folder (``<instance>/attachments``, outside static; ``KDCS_ATTACHMENT_DIR`` overrides), named by the SHA-256
of what is stored, so one file uploaded twice is stored once.

``serve`` answers a stored file with ``Content-Disposition``,
``X-Content-Type-Options: nosniff``, a content type from the allow-list only
and ``Content-Security-Policy: sandbox`` so nothing served ever runs as a page.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, send_file
from flask_babel import gettext as _

from ..service_errors import ValidationError

# kind → (content type, extension)
KINDS: dict[str, tuple[str, str]] = {
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
    "webp": ("image/webp", ".webp"),
    "pdf": ("application/pdf", ".pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "mp4": ("video/mp4", ".mp4"),  # short training videos (lesson files) only
}
IMAGE_KINDS = frozenset({"jpeg", "png", "webp"})
EVIDENCE_KINDS = frozenset({"jpeg", "png", "webp", "pdf", "xlsx"})
MP4_BRANDS = (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash")
SAFE_TYPES = frozenset(content_type for content_type, _ext in KINDS.values())
MAX_PIXELS = 60_000_000  # a decompression bomb is refused before it is decoded
THUMB_SIZE = (320, 320)
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; plugin-types application/pdf"


@dataclass(frozen=True)
class StoredFile:
    """What ``save_upload`` stored: the name on disk and what was learnt from the content."""

    stored_name: str  # sha256 hex + extension
    original_name: str
    content_type: str
    kind: str
    size: int
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGE_KINDS


def max_upload_mb() -> float:
    """The per-file limit in MB (``KDCS_ATTACHMENT_MAX_MB``, default 10)."""
    value = current_app.config.get("KDCS_ATTACHMENT_MAX_MB") or os.environ.get("KDCS_ATTACHMENT_MAX_MB") or 10
    return float(value)


def storage_dir() -> Path:
    """The folder of stored files (created if missing), outside the static folder."""
    base = current_app.config.get("KDCS_ATTACHMENT_DIR") or os.path.join(current_app.instance_path, "attachments")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(stored_name: str) -> Path:
    """The file of a stored name; a name that is not ours (``../``) is refused."""
    stem, _dot, ext = stored_name.partition(".")
    if len(stem) != 64 or any(c not in "0123456789abcdef" for c in stem) or "." + ext not in _EXTENSIONS:
        raise ValueError(f"not a stored name: {stored_name!r}")
    return storage_dir() / stem[:2] / stored_name


_EXTENSIONS = {ext for _type, ext in KINDS.values()}


def sniff(data: bytes) -> str | None:
    """The kind of a file from its first bytes (and for .xlsx its zip directory), else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data[4:8] == b"ftyp" and data[8:12] in MP4_BRANDS:
        return "mp4"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
    return None


def _kind_names(kinds) -> str:
    names = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "pdf": "PDF", "xlsx": "Excel（.xlsx）", "mp4": "MP4"}
    return "、".join(names[k] for k in KINDS if k in kinds)


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": message})


def _strip_image(data: bytes, kind: str) -> tuple[bytes, int, int]:
    """The image written again without metadata (EXIF/GPS/XMP/comments), upright; its size."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _refuse(_("The image is too large (%(w)s × %(h)s pixels).", w=width, h=height))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if kind == "jpeg":
                if upright.mode not in ("RGB", "L", "CMYK"):
                    upright = upright.convert("RGB")
                upright.save(out, "JPEG", quality=92, optimize=True)
            elif kind == "png":
                upright.save(out, "PNG", optimize=True)
            else:
                upright.save(out, "WEBP", quality=90)
            return out.getvalue(), upright.width, upright.height
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse(_("The image could not be read; it may be damaged.")) from None


def save_upload(file_storage, *, kinds=EVIDENCE_KINDS, max_bytes: int | None = None) -> StoredFile:
    """Check and store one upload; raise ValidationError({"file": Chinese message}) to refuse it."""
    original = os.path.basename((getattr(file_storage, "filename", "") or "").replace("\\", "/"))[:200] or "file"
    limit = int(max_bytes if max_bytes is not None else max_upload_mb() * 1024 * 1024)
    data = file_storage.stream.read(limit + 1)
    mb = f"{limit / 1024 / 1024:g}"
    if not data:
        raise _refuse(_("%(name)s is empty.", name=original))
    if len(data) > limit:
        raise _refuse(_("%(name)s is larger than %(mb)s MB.", name=original, mb=mb))
    kind = sniff(data)
    if kind is None or kind not in kinds:
        raise _refuse(_("%(name)s is not an accepted file: only %(kinds)s files can be uploaded (the type is "
                        "checked by the content, not by the name).", name=original, kinds=_kind_names(kinds)))
    width = height = None
    if kind in IMAGE_KINDS:
        data, width, height = _strip_image(data, kind)
    content_type, ext = KINDS[kind]
    digest = hashlib.sha256(data).hexdigest()
    stored_name = digest + ext
    target = path_of(stored_name)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    return StoredFile(stored_name, original, content_type, kind, len(data), width, height)


def exists(stored_name: str) -> bool:
    """Is the stored file still on disk (not purged)?"""
    try:
        return path_of(stored_name).exists()
    except ValueError:
        return False


def delete(stored_name: str) -> bool:
    """Remove a stored file and its thumbnail (purge); True if something was deleted."""
    path = path_of(stored_name)
    thumb = _thumb_path(stored_name)
    removed = False
    for p in (path, thumb):
        if p.exists():
            p.unlink()
            removed = True
    return removed


def _thumb_path(stored_name: str) -> Path:
    path = path_of(stored_name)
    return path.with_name("thumb-" + path.stem + ".jpg")


def thumbnail_path(stored_name: str) -> Path | None:
    """A small JPEG of a stored image (made once, on first use); None if it cannot be made."""
    from PIL import Image

    thumb = _thumb_path(stored_name)
    if thumb.exists():
        return thumb
    source = path_of(stored_name)
    if not source.exists():
        return None
    try:
        with Image.open(source) as image:
            image.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (OSError, ValueError):
        return None
    thumb.write_bytes(out.getvalue())
    return thumb


def _safe_type(content_type: str) -> str:
    return content_type if content_type in SAFE_TYPES else "application/octet-stream"


def _protect(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def serve(stored_name: str, content_type: str, download_name: str, *, inline: bool = True) -> Response:
    """Answer a stored file: images, PDFs and videos inline (a new tab), everything else as a download."""
    path = path_of(stored_name)
    safe = _safe_type(content_type)
    as_inline = inline and (safe.startswith(("image/", "video/")) or safe == "application/pdf")
    response = send_file(path, mimetype=safe, as_attachment=not as_inline, download_name=download_name,
                         conditional=True, etag=stored_name.partition(".")[0], max_age=3600)
    return _protect(response)


def serve_thumbnail(stored_name: str) -> Response | None:
    """Answer an image's thumbnail (None when there is none: the view answers 404)."""
    thumb = thumbnail_path(stored_name)
    if thumb is None:
        return None
    response = send_file(thumb, mimetype="image/jpeg", conditional=True, max_age=3600)
    response.headers["Content-Disposition"] = "inline"
    return _protect(response)
