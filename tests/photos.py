"""Real image files for the photo tests, made with Pillow: a phone's JPEG with GPS tags and
an orientation, PNG, GIF, HEIC."""

import io

import pillow_heif
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

# Biscuit's home, as a phone writes it: 37°46'29.64" N, 122°25'9.84" W
LATITUDE = (37.0, 46.0, 29.64)
LONGITUDE = (122.0, 25.0, 9.84)


def gps_jpeg(width: int = 400, height: int = 300, orientation: int = 6) -> bytes:
    """A JPEG as a phone takes it: EXIF with GPS position, camera, time and an orientation
    (6: the pixels are stored on their side, to be turned 90° clockwise)."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    image.paste((20, 20, 200), (0, 0, width // 4, height // 4))  # a mark in the stored top left
    exif = Image.Exif()
    exif[Base.Make] = "PawPhone"
    exif[Base.Model] = "PawPhone 15"
    exif[Base.DateTime] = "2026:11:29 09:30:00"
    exif[Base.Orientation] = orientation
    exif.get_ifd(IFD.GPSInfo).update({
        GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: LATITUDE,
        GPS.GPSLongitudeRef: "W", GPS.GPSLongitude: LONGITUDE,
    })
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int = 64, height: int = 48, alpha: bool = False) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (width, height),
                      (0, 128, 0, 100) if alpha else (0, 128, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gif(frames: int = 3) -> bytes:
    images = []
    for n in range(frames):  # a square moving right: each frame differs from the last
        frame = Image.new("RGB", (40, 30), (250, 250, 250))
        frame.paste((200, 30, 30), (n * 10, 5, n * 10 + 10, 15))
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=120,
                   comment=b"shot at 12 Elm Street")
    return out.getvalue()


def heic(width: int = 120, height: int = 80) -> bytes:
    image = Image.new("RGB", (width, height), (90, 60, 30))
    out = io.BytesIO()
    pillow_heif.register_heif_opener()
    image.save(out, "HEIF", quality=80)
    return out.getvalue()


def big_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 10, 10)).save(out, "JPEG", quality=60)
    return out.getvalue()
