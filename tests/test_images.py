"""Photos a person sends are re-encoded: no EXIF (above all no GPS), upright, resized."""

import io

import pytest
from PIL import Image
from PIL.ExifTags import IFD

from pawline.images import MAX_SIDE, NotAPhoto, check_upload, reencode
from tests import photos


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_the_test_photo_really_carries_gps_and_an_orientation():
    exif = opened(photos.gps_jpeg()).getexif()

    assert tuple(float(x) for x in exif.get_ifd(IFD.GPSInfo)[2]) == photos.LATITUDE
    assert exif[0x0112] == 6  # Orientation


def test_a_phone_photo_loses_its_gps_position_and_every_exif_tag():
    raw = photos.gps_jpeg()

    sent = reencode(raw, "IMG_0042.JPG")

    image = opened(sent.data)
    assert sent.content_type == "image/jpeg" and image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(IFD.GPSInfo) == {}
    assert "exif" not in image.info and "xmp" not in image.info
    assert b"PawPhone" not in sent.data and b"GPS" not in sent.data
    assert b"Exif\x00\x00" not in sent.data


def test_the_orientation_is_applied_to_the_pixels():
    sent = reencode(photos.gps_jpeg(400, 300, orientation=6))

    image = opened(sent.data).convert("RGB")
    assert (sent.width, sent.height) == (300, 400) == image.size
    # stored top left, turned 90° clockwise, is now the top right
    assert image.getpixel((290, 10))[2] > 150
    assert image.getpixel((10, 10))[2] < 100


def test_a_large_photo_is_resized_to_the_longest_side():
    sent = reencode(photos.big_jpeg(4000, 3000))

    assert (sent.width, sent.height) == (MAX_SIDE, 1200)
    assert len(sent.data) < 1024 * 1024


def test_heic_becomes_jpeg():
    sent = reencode(photos.heic(), "IMG_0001.HEIC")

    assert sent.content_type == "image/jpeg"
    assert sent.filename == "IMG_0001.jpg"
    assert opened(sent.data).size == (120, 80)


def test_png_keeps_transparency_and_drops_its_text():
    sent = reencode(photos.png(alpha=True), "walk.png")

    image = opened(sent.data)
    assert sent.content_type == "image/png" and image.mode == "RGBA"
    assert image.info.get("exif") is None


def test_a_gif_keeps_its_frames_but_not_its_comment():
    sent = reencode(photos.gif(3), "zoomies.gif")

    image = opened(sent.data)
    assert sent.content_type == "image/gif" and image.n_frames == 3
    assert b"Elm Street" not in sent.data


@pytest.mark.parametrize(("raw", "name"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "cat.svg"),
    (b"%PDF-1.7\n", "vet.pdf"),
    (b"", "empty.jpg"),
    (photos.gps_jpeg()[:200], "cut.jpg"),
])
def test_anything_else_is_refused_in_words(raw, name):
    with pytest.raises(NotAPhoto) as refused:
        reencode(raw, name)

    assert "JPEG, PNG, GIF or HEIC" in refused.value.message
    assert refused.value.field == "photos"


def test_a_bmp_is_an_image_but_not_one_we_send():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "BMP")

    with pytest.raises(NotAPhoto):
        reencode(out.getvalue(), "x.bmp")


def test_at_most_five_photos_and_five_megabytes():
    check_upload([1_000_000] * 5)
    check_upload([5 * 1024 * 1024])

    with pytest.raises(NotAPhoto, match="at most 5 photos"):
        check_upload([10] * 6)
    with pytest.raises(NotAPhoto, match="5 MB in total"):
        check_upload([3 * 1024 * 1024, 2 * 1024 * 1024 + 1])
