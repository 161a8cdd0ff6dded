"""Images in user messages, as a vision model is given them: a `data:` URL holding the image's
bytes in base64 (Workers AI reads bytes, not links), or an http(s) URL that the inference service
fetches (inference/images.py) and turns into one. Plain Python, used by both workers: the api
refuses a bad image naming its part before any RPC, the inference service checks what it fetched
the same way.

An image is accepted when its media type is one of IMAGE_MEDIA_TYPES, its bytes begin as that
type's files do (a PNG declared as JPEG, or bytes of no image at all, are refused), and it holds
at most MAX_IMAGE_BYTES (shared/limits.py, with the per-request limits)."""

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.limits import MAX_IMAGE_BYTES, MAX_IMAGE_URL_CHARS, MAX_IMAGES, MAX_REQUEST_IMAGE_BYTES

# The types vision models here read, each with how its files begin (a WebP's "RIFF" is followed by
# the file's length, then "WEBP").
IMAGE_MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_DATA_URL = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(;[^;,]*)*),", re.IGNORECASE)
# What an image counts for in a prompt's estimated size (the context window's check, the usage
# estimate, the quota reserved), whatever its size: a 1024x1024 image is about 1,400 tokens to
# Llama 4 Scout (nine tiles and the whole, 144 tokens each) and to Mistral Small 3.1 (28-pixel patches).
IMAGE_PROMPT_TOKENS = 1_500
IMAGE_PROMPT_CHARS = 4 * IMAGE_PROMPT_TOKENS  # as prompts are measured: about four characters a token


class ImageProblem(ValueError):
    """Why an image is refused; the caller names the part it came from."""

    def __init__(self, message: str, **details: Any) -> None:  # ApiError's keywords (the limit, the valid values)
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Image:
    media_type: str
    data: bytes

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"


def media_type_of(declared: str) -> str:
    """A declared media type as compared: lowercase, without parameters, common aliases resolved."""
    bare = declared.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def sniffed_type(data: bytes) -> str | None:
    """The image type the bytes begin as, if one of IMAGE_MEDIA_TYPES."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for kind, starts in _SIGNATURES.items() if data.startswith(starts)), None)


def too_large(size: str) -> ImageProblem:
    return ImageProblem(f"the image holds {size} bytes; the limit is {MAX_IMAGE_BYTES}", limit=MAX_IMAGE_BYTES)


def checked_type(declared: str) -> str:
    """The declared media type, if an image type accepted here."""
    media_type = media_type_of(declared)
    if media_type not in IMAGE_MEDIA_TYPES:
        raise ImageProblem(f"{declared or 'no media type'} is not an image type accepted here ({', '.join(IMAGE_MEDIA_TYPES)})")
    return media_type


def checked(declared: str, data: bytes) -> Image:
    """An image of the declared type, once its bytes are known to be one, of that type, within the size limit."""
    media_type = checked_type(declared)
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large(str(len(data)))
    found = sniffed_type(data)
    if found is None:
        raise ImageProblem(f"the bytes are not an {media_type} image (nor any of {', '.join(IMAGE_MEDIA_TYPES)})")
    if found != media_type:
        raise ImageProblem(f"declared {media_type}, but the bytes are an {found} image")
    return Image(media_type, data)


def parse_data_url(url: str) -> Image:
    """The image a `data:<type>;base64,<data>` URL holds, checked (`checked`)."""
    match = _DATA_URL.match(url)
    if match is None:
        raise ImageProblem("not a data URL (data:<media type>;base64,<data>)")
    if "base64" not in (p.strip().lower() for p in match["params"].split(";")):
        raise ImageProblem("a data URL's image must be base64 (data:<media type>;base64,<data>)")
    media_type = checked_type(match["type"])
    encoded = url[match.end():]
    if len(encoded) // 4 * 3 > MAX_IMAGE_BYTES + 2:  # refused before decoding it
        raise too_large(f"about {len(encoded) // 4 * 3}")
    try:
        data = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImageProblem("the data URL's data is not base64") from None
    return checked(media_type, data)


def is_fetched(url: str) -> bool:
    """Whether the image is named by an http(s) URL (which the inference service fetches)."""
    return url[:8].lower().startswith(("http://", "https://"))


def check_url(url: str) -> Image | None:
    """The image a data URL holds (checked), or None for an http(s) URL (its image is checked once
    fetched); any other URL is refused."""
    if url[:5].lower() == "data:":
        return parse_data_url(url)
    if not is_fetched(url):
        raise ImageProblem("an image URL must be a data URL (data:image/png;base64,...) or an http(s) URL")
    if len(url) > MAX_IMAGE_URL_CHARS:
        raise ImageProblem(f"the URL holds {len(url)} characters; the limit is {MAX_IMAGE_URL_CHARS}", limit=MAX_IMAGE_URL_CHARS)
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        raise ImageProblem("the URL names no host")
    return None


def inline_bytes(url: str) -> int:
    """The bytes a data URL holds, from its length (0 for an http(s) URL)."""
    if is_fetched(url):
        return 0
    encoded = url[url.find(",") + 1:]
    return len(encoded) * 3 // 4 - encoded[-2:].count("=")


class ImageBudget:
    """A request's images counted as they come: the one past MAX_IMAGES, or past
    MAX_REQUEST_IMAGE_BYTES of all of them, is refused."""

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    def take(self, size: int) -> None:
        self.count += 1
        self.bytes += size
        if self.count > MAX_IMAGES:
            raise ImageProblem(f"a request may hold at most {MAX_IMAGES} images", limit=MAX_IMAGES)
        if self.bytes > MAX_REQUEST_IMAGE_BYTES:
            raise ImageProblem(f"the request's images hold {self.bytes} bytes together; the limit is {MAX_REQUEST_IMAGE_BYTES}",
                               limit=MAX_REQUEST_IMAGE_BYTES)
