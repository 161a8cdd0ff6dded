"""A generation's images as its model reads them: each http(s) image URL is fetched here (the only
place the service fetches one) and put in the request as a data URL, since Workers AI reads bytes,
not links; the external provider is given the same. A fetch is held to a time limit and to
MAX_IMAGE_BYTES (its reading stops past it), carries no credentials (only an Accept header), and
must bring one of the accepted image types, its bytes agreeing (shared/images.py). A failed fetch
is the caller's image failing: a 400 naming the part, not a 5xx."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared.contract import ChatMessage, GenerationRequest, ImageInput, ServiceFailed, ServiceFailure
from shared.errors import ApiError, ErrorCode
from shared.images import IMAGE_MEDIA_TYPES, Image, ImageBudget, ImageProblem, checked, inline_bytes, is_fetched, too_large
from shared.limits import MAX_IMAGE_BYTES

IMAGE_FETCH_TIMEOUT_S = 5.0
# What a fetch answers: its status, its content type and its bytes.
Fetched = tuple[int, str, bytes]
Fetch = Callable[[str], Awaitable[Fetched]]


def fetch_timeout_s(deadline_ms: int | None) -> float:
    """Each fetch's time limit: IMAGE_FETCH_TIMEOUT_S, or half the time the caller waits for the
    answer if that is less (the model needs the rest)."""
    return min(IMAGE_FETCH_TIMEOUT_S, deadline_ms / 2000) if deadline_ms else IMAGE_FETCH_TIMEOUT_S


async def _read_within_limit(url: str, signal: Any) -> Fetched:
    from js import fetch  # the runtime's fetch: this module imports on CPython too

    from inference.ai_client import read_chunks
    from inference.store.runtime import with_signal

    # No header of the caller's request reaches here: the image's server sees only what it is asked for.
    response = await fetch(url, with_signal({"method": "GET", "headers": {"accept": ", ".join(IMAGE_MEDIA_TYPES)}}, signal))
    content_type = str(response.headers.get("content-type") or "")
    declared = str(response.headers.get("content-length") or "")
    if not response.ok or (declared.isdigit() and int(declared) > MAX_IMAGE_BYTES):
        if response.body:
            await response.body.cancel()
        if response.ok:
            raise too_large(declared)
        return response.status, content_type, b""
    chunks, size = [], 0
    if response.body:
        reader = response.body.getReader()
        async for chunk in read_chunks(reader):
            size += len(chunk)
            if size > MAX_IMAGE_BYTES:
                await reader.cancel()
                raise too_large(f"over {MAX_IMAGE_BYTES}")
            chunks.append(chunk)
    return response.status, content_type, b"".join(chunks)


async def fetch_within_limits(url: str) -> Fetched:
    """The image at `url`, fetched by the runtime; called off (its request aborted) if the caller
    stops waiting, as the time limit does."""
    from inference.store.runtime import cancelled_with_caller

    return await cancelled_with_caller(lambda signal: _read_within_limit(url, signal))


async def fetched_image(url: str, timeout_s: float, fetch: Fetch = fetch_within_limits) -> Image:
    """The image at an http(s) URL, checked as an image sent inline is; ImageProblem says why not."""
    try:
        status, content_type, data = await asyncio.wait_for(fetch(url), timeout_s)
    except TimeoutError:
        raise ImageProblem(f"the image at {url} was not fetched within {timeout_s:g} s") from None
    except ImageProblem:
        raise
    except Exception as exc:  # the runtime's fetch failed: no such host, the connection refused or lost
        raise ImageProblem(f"the image at {url} could not be fetched ({str(exc)[:200]})") from None
    if not 200 <= status < 300:
        raise ImageProblem(f"fetching the image at {url} answered {status}")
    try:
        return checked(content_type, data)
    except ImageProblem as problem:
        raise ImageProblem(f"the image at {url}: {problem}", **problem.details) from None


def _refusal(field: str, problem: ImageProblem) -> ServiceFailed:
    error = ApiError(ErrorCode.INVALID_REQUEST, f"{field}: {problem}", field=field, **problem.details)
    return ServiceFailed(ServiceFailure.refusing(error))


async def _image_for_model(image: ImageInput, timeout_s: float, fetch: Fetch) -> tuple[ImageInput, int]:
    """The image as its model is given it (a data URL), with its size in bytes."""
    if not is_fetched(image.url):
        return image, inline_bytes(image.url)
    try:
        fetched = await fetched_image(image.url, timeout_s, fetch)
    except ImageProblem as problem:
        raise _refusal(image.field or "messages", problem) from None
    return image.model_copy(update={"url": fetched.data_url()}), len(fetched.data)


async def with_fetched_images(req: GenerationRequest, fetch: Fetch = fetch_within_limits) -> GenerationRequest:
    """The request with each http(s) image fetched (at the same time) and put in as a data URL, and
    its deadline less the time that took; ServiceFailed naming the part of an image that could not
    be, or past the request's limits."""
    if not any(is_fetched(image.url) for m in req.messages for image in m.images):
        return req
    started = time.monotonic()
    timeout_s = fetch_timeout_s(req.deadline_ms)
    tasks = {(i, j): asyncio.ensure_future(_image_for_model(image, timeout_s, fetch))
             for i, m in enumerate(req.messages) for j, image in enumerate(m.images)}
    try:
        done = dict(zip(tasks, await asyncio.gather(*tasks.values()), strict=True))
    finally:
        for task in tasks.values():  # one failed: the others are not waited for
            task.cancel()
    budget = ImageBudget()
    messages: list[ChatMessage] = []
    for i, message in enumerate(req.messages):
        images = []
        for j in range(len(message.images)):
            image, size = done[(i, j)]
            try:
                budget.take(size)
            except ImageProblem as problem:
                raise _refusal(image.field or "messages", problem) from None
            images.append(image)
        messages.append(message.model_copy(update={"images": images}) if images else message)
    # What is left of the caller's wait is the model's.
    spent_ms = int((time.monotonic() - started) * 1000)
    deadline_ms = max(1, req.deadline_ms - spent_ms) if req.deadline_ms else None
    return req.model_copy(update={"messages": messages, "deadline_ms": deadline_ms})
