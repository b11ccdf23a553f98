"""Photos a person sends: checked, re-encoded without their metadata, resized, before storing.

A sitter's photo taken at a client's home carries the place in its EXIF GPS tags, and phones
add the camera, the time and more. Re-encoding copies only the pixels into a new image, so
EXIF, XMP, comments and text chunks stay behind whatever format they came in; the EXIF
orientation is applied to the pixels first, so the photo still stands the right way up. HEIC
(iPhones) becomes JPEG, which every phone shows; PNG stays PNG; a GIF keeps its frames (a still
GIF becomes PNG).
"""

import io
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from pawline.errors import DomainError

pillow_heif.register_heif_opener()

MAX_PHOTOS = 5
MAX_TOTAL_BYTES = 5 * 1024 * 1024  # Twilio's limit for the media of one MMS
MAX_SIDE = 1600  # pixels on the long side: sharp on a phone, a fraction of the bytes
MAX_PIXELS = 50_000_000  # a larger picture is refused before it is decoded (a pixel bomb)
MAX_FRAMES = 100
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "HEIF": "image/heic"}
ACCEPTED_WORDS = "JPEG, PNG, GIF or HEIC"
JPEG_QUALITY = 85


class NotAPhoto(DomainError):
    """An attached file that is not a photo we can send."""

    field = "photos"


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    filename: str
    width: int
    height: int


def check_upload(sizes: list[int]) -> None:
    """Refuse more than MAX_PHOTOS photos, or more than MAX_TOTAL_BYTES in all."""
    if len(sizes) > MAX_PHOTOS:
        raise NotAPhoto(f"Attach at most {MAX_PHOTOS} photos to one message.")
    if sum(sizes) > MAX_TOTAL_BYTES:
        raise NotAPhoto(f"Photos can be {MAX_TOTAL_BYTES // (1024 * 1024)} MB in total at most "
                        "(what a text message carries).")


def reencode(raw: bytes, name: str = "photo") -> Encoded:
    """The photo as we store and send it: pixels only, upright, at most MAX_SIDE pixels."""
    shown = name[:60] or "The file"
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in ACCEPTED:
                raise NotAPhoto(f"{shown} is not a {ACCEPTED_WORDS} photo.")
            if image.width * image.height > MAX_PIXELS:
                raise NotAPhoto(f"{shown} has too many pixels to send.")
            if image.format == "GIF" and getattr(image, "n_frames", 1) > 1:
                return _animated(image, name)
            return _still(image, name)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise NotAPhoto(f"{shown} is not a {ACCEPTED_WORDS} photo.") from None


def _pixels_only(image: Image.Image, keep_alpha: bool = True) -> Image.Image:
    """A new image holding nothing but these pixels (no info, EXIF, XMP or palette tricks)."""
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if alpha and keep_alpha else "RGB"
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


def _still(image: Image.Image, name: str) -> Encoded:
    lossless = image.format in ("PNG", "GIF")  # screenshots, drawings: kept sharp, as PNG
    upright = ImageOps.exif_transpose(image)  # orientation applied to the pixels
    clean = _pixels_only(upright, keep_alpha=lossless)
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if lossless:
        clean.save(out, "PNG", optimize=True)
        kind = "image/png"
    else:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        kind = "image/jpeg"
    return Encoded(out.getvalue(), kind, _filename(name, kind), clean.width, clean.height)


def _animated(image: Image.Image, name: str) -> Encoded:
    frames, durations = [], []
    for index in range(min(image.n_frames, MAX_FRAMES)):
        image.seek(index)
        frame = _pixels_only(image)
        frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        frames.append(frame)
        durations.append(image.info.get("duration", 100))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, disposal=2)
    first = frames[0]
    return Encoded(out.getvalue(), "image/gif", _filename(name, "image/gif"), first.width,
                   first.height)


def _filename(name: str, kind: str) -> str:
    """The sent file's name: the original's stem (safe characters only), our extension."""
    stem = name.rsplit(".", 1)[0]
    kept = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in stem)
    safe = kept.strip("-")[:60]
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}[kind]
    return f"{safe or 'photo'}.{extension}"


THUMBNAIL_SIDE = 440  # twice the 220 px the thread shows: sharp on a high-density screen


def _upright_pixels(data: bytes) -> Image.Image | None:
    """A photo's pixels, upright, without its metadata (the first frame of a GIF); None when
    the bytes are no photo Pillow can read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in (*ACCEPTED, "WEBP") or image.width * image.height > MAX_PIXELS:
                return None
            return _pixels_only(ImageOps.exif_transpose(image), keep_alpha=False)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def thumbnail(data: bytes) -> bytes | None:
    """A small upright JPEG of a photo for the thread, without its metadata (or None)."""
    clean = _upright_pixels(data)
    if clean is None:
        return None
    clean.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def full_size_jpeg(data: bytes) -> bytes | None:
    """A photo browsers cannot show (an iPhone's HEIC) as an upright JPEG of the same size,
    without its metadata; None when the bytes are no photo Pillow can read."""
    clean = _upright_pixels(data)
    if clean is None:
        return None
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
