"""Images in user messages (shared/images.py, api/images.py, inference/images.py): a data URL's
syntax, base64 and media type, the bytes agreeing with the type, the limits per image and per
request, and an http(s) image fetched within its limits and given to the model as a data URL."""

import asyncio
import base64
import re

import pytest

from api import bodies
from inference.images import fetch_timeout_s, fetched_image, with_fetched_images
from shared import images
from shared.contract import Caller, ChatMessage, GenerationRequest, ImageInput, ServiceFailed
from shared.errors import ApiError
from shared.limits import MAX_IMAGE_BYTES, MAX_IMAGES, MAX_REQUEST_IMAGE_BYTES

# A 1x1 PNG, and files that begin as each accepted type's do.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(20)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20)
IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "s1"}


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


@pytest.mark.parametrize(("data", "media_type"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")])
def test_each_accepted_type_is_read_from_its_data_url(data, media_type):
    image = images.parse_data_url(data_url(data, media_type))

    assert (image.media_type, image.data) == (media_type, data)
    assert image.data_url() == data_url(data, media_type)


def test_a_data_urls_type_is_read_as_media_types_are_compared():
    assert images.parse_data_url(data_url(JPEG, "IMAGE/JPG")).media_type == "image/jpeg"
    assert images.parse_data_url(data_url(PNG, "image/png;name=dot.png")).data == PNG
    assert images.parse_data_url(data_url(PNG).rstrip("=")).data == PNG  # padding left out


@pytest.mark.parametrize(("url", "problem"), [
    ("data:image/png,plain-text", "must be base64"),
    ("data:image/png;base64,not base64!", "not base64"),
    ("data:image/svg+xml;base64,PHN2Zy8+", "image/svg+xml is not an image type accepted here"),
    ("data:;base64,AAAA", "no media type is not an image type"),
    ("image/png;base64,AAAA", "must be a data URL"),
    (data_url(b"just some text"), "the bytes are not an image/png image"),
    (data_url(PNG, "image/jpeg"), "declared image/jpeg, but the bytes are an image/png image"),
])
def test_a_bad_data_url_is_refused_saying_why(url, problem):
    with pytest.raises(images.ImageProblem, match=re.escape(problem)):
        images.check_url(url)


def test_an_image_over_the_limit_is_refused_naming_the_limit_without_decoding_it():
    over = data_url(PNG + bytes(MAX_IMAGE_BYTES))
    with pytest.raises(images.ImageProblem) as raised:
        images.parse_data_url(over)

    assert raised.value.details == {"limit": MAX_IMAGE_BYTES} and "the limit is 524288" in str(raised.value)
    images.parse_data_url(data_url(PNG + bytes(MAX_IMAGE_BYTES - len(PNG))))  # at the limit: accepted


def test_magic_numbers_name_each_type_and_nothing_else():
    assert [images.sniffed_type(d) for d in (PNG, JPEG, GIF, WEBP)] == ["image/png", "image/jpeg", "image/gif", "image/webp"]
    assert images.sniffed_type(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None  # a RIFF that is no WebP
    assert images.sniffed_type(b"") is None


def test_an_http_url_is_checked_for_its_form_only():
    assert images.check_url("https://example.com/cat.png") is None
    for url, problem in (("http:///cat.png", "names no host"), ("https://x.example/" + "a" * 3000, "the limit is 2048"),
                         ("file:///etc/passwd", "must be a data URL")):
        with pytest.raises(images.ImageProblem, match=re.escape(problem)):
            images.check_url(url)


def test_a_requests_images_are_held_to_their_count_and_bytes_together():
    budget = images.ImageBudget()
    budget.take(MAX_REQUEST_IMAGE_BYTES // 2)
    budget.take(MAX_REQUEST_IMAGE_BYTES // 2)
    with pytest.raises(images.ImageProblem, match="images hold 1048577 bytes together"):
        budget.take(1)

    counted = images.ImageBudget()
    for _ in range(MAX_IMAGES):
        counted.take(0)
    with pytest.raises(images.ImageProblem, match=f"at most {MAX_IMAGES} images"):
        counted.take(0)


def test_an_inline_images_size_is_known_from_its_data_urls_length():
    assert images.inline_bytes(data_url(PNG)) == len(PNG)
    assert images.inline_bytes(data_url(JPEG, "image/jpeg")) == len(JPEG)
    assert images.inline_bytes("https://example.com/a.png") == 0


def test_an_image_counts_in_the_prompts_estimated_size():
    plain = ChatMessage(role="user", content="What is it?")
    with_image = ChatMessage(role="user", content="What is it?", images=[ImageInput(url=data_url(PNG))])

    assert with_image.prompt_chars() - plain.prompt_chars() == 4 * images.IMAGE_PROMPT_TOKENS


def test_the_contract_refuses_what_the_api_would():
    with pytest.raises(ValueError, match="declared image/jpeg"):
        ImageInput(url=data_url(PNG, "image/jpeg"))
    with pytest.raises(ValueError, match="user messages only"):
        ChatMessage(role="assistant", content="Here", images=[ImageInput(url=data_url(PNG))])


# --- the api: parts of either dialect, named where they are -----------------------------------


def openai(content, model="mistral-small-3.1", role="user"):
    body = bodies.validated(bodies.OpenAIChatBody, {"model": model, "messages": [{"role": "system", "content": "Be brief."},
                                                                               {"role": role, "content": content}]})
    return bodies.openai_chat_request(body, **IDS)


def ui(parts=None, content=None, role="user"):
    message = {"role": role, "parts": parts} if parts is not None else {"role": role, "content": content}
    body = bodies.validated(bodies.ChatBody, {"model": "mistral-small-3.1", "messages": [{"role": "user", "content": "Hi"}, message]})
    return bodies.chat_request(body, **IDS)


def test_an_openai_image_url_part_becomes_the_messages_image_named_where_it_is():
    req = openai([{"type": "text", "text": "What is this?"},
                  {"type": "image_url", "image_url": {"url": data_url(PNG), "detail": "auto"}},
                  {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}])

    [_, message] = req.messages
    assert message.content == "What is this?"
    assert [(i.url, i.field) for i in message.images] == [(data_url(PNG), "messages.1.content.1"),
                                                          ("https://example.com/cat.png", "messages.1.content.2")]


def test_an_ai_sdk_file_part_with_an_image_type_becomes_the_messages_image_in_parts_and_in_content():
    part = {"type": "file", "mediaType": "image/png", "url": data_url(PNG), "filename": "dot.png"}

    in_parts = ui(parts=[{"type": "text", "text": "What is this?"}, part])
    in_content = ui(content=[{"type": "text", "text": "What is this?"}, part])

    assert [(i.url, i.field) for i in in_parts.messages[1].images] == [(data_url(PNG), "messages.1.parts.1")]
    assert [i.field for i in in_content.messages[1].images] == ["messages.1.content.1"]
    assert in_parts.messages[1].content == "What is this?"


@pytest.mark.parametrize(("build", "field", "problem"), [
    (lambda: openai([{"type": "image_url", "image_url": {"url": data_url(b"GIF89a", "image/png")}}]), "messages.1.content.0",
     "declared image/png, but the bytes are an image/gif image"),
    (lambda: openai([{"type": "image_url", "image_url": {"url": data_url(PNG)}}], role="assistant"), "messages.1.content.0",
     "user messages only"),
    (lambda: ui(parts=[{"type": "file", "mediaType": "image/jpeg", "url": data_url(PNG)}]), "messages.1.parts.0",
     "mediaType is image/jpeg, but the data URL holds image/png"),
    (lambda: ui(parts=[{"type": "file", "mediaType": "image/tiff", "url": "https://example.com/a.tiff"}]), "messages.1.parts.0",
     "image/tiff is not an image type accepted here"),
    (lambda: ui(parts=[{"type": "file", "mediaType": "image/png", "url": data_url(PNG + bytes(MAX_IMAGE_BYTES))}]),
     "messages.1.parts.0", "the limit is 524288"),
    (lambda: openai([{"type": "image_url", "image_url": {"url": data_url(PNG)}}] * (MAX_IMAGES + 1)), f"messages.1.content.{MAX_IMAGES}",
     f"at most {MAX_IMAGES} images"),
])
def test_a_bad_image_is_a_400_naming_its_part(build, field, problem):
    with pytest.raises(ApiError) as raised:
        build()

    assert (raised.value.status, raised.value.code, raised.value.details["field"]) == (400, "invalid_request", field)
    assert problem in raised.value.message


def test_an_image_counts_in_the_context_windows_check():
    text = "x" * (128_000 * 4 - 4_000)  # about 127,000 tokens: mistral-small-3.1 reads 128,000
    openai(text)

    with pytest.raises(ApiError) as raised:
        openai([{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": data_url(PNG)}}])

    assert (raised.value.code, raised.value.details["limit"]) == ("context_length_exceeded", 128_000)


# --- the inference service: http(s) images fetched ---------------------------------------------


def fetcher(answers: dict[str, object], asked: list[str] | None = None):
    """A fetch answering each URL as `answers` says: (status, content type, bytes), an exception to
    raise, or "hang" for a server that never answers."""

    async def fetch(url: str):
        if asked is not None:
            asked.append(url)
        answer = answers[url]
        if answer == "hang":
            await asyncio.sleep(3600)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return fetch


def generation(*image_urls: str, deadline_ms: int | None = 10_000) -> GenerationRequest:
    message = ChatMessage(role="user", content="What is this?",
                          images=[ImageInput(url=url, field=f"messages.0.content.{i + 1}") for i, url in enumerate(image_urls)])
    return GenerationRequest(kind="chat", model="@cf/mistralai/mistral-small-3.1-24b-instruct", messages=[message],
                             max_tokens=16, deadline_ms=deadline_ms, **IDS)


def test_a_fetched_image_goes_to_the_model_as_a_data_url_and_the_others_as_they_are():
    url = "https://example.com/dot.png"
    req = generation(url, data_url(JPEG, "image/jpeg"))

    done = asyncio.run(with_fetched_images(req, fetcher({url: (200, "image/png", PNG)})))

    assert [(i.url, i.field) for i in done.messages[0].images] == [(data_url(PNG), "messages.0.content.1"),
                                                                   (data_url(JPEG, "image/jpeg"), "messages.0.content.2")]
    assert 1 <= done.deadline_ms <= 10_000


def test_a_request_without_links_fetches_nothing():
    asked: list[str] = []
    req = generation(data_url(PNG))

    assert asyncio.run(with_fetched_images(req, fetcher({}, asked))) is req and asked == []


@pytest.mark.parametrize(("answer", "problem"), [
    ((404, "text/html", b""), "answered 404"),
    ((200, "text/html", b"<html>"), "text/html is not an image type accepted here"),
    ((200, "image/png", JPEG), "declared image/png, but the bytes are an image/jpeg image"),
    ((200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES)), "the limit is 524288"),
    (images.too_large(f"over {MAX_IMAGE_BYTES}"), "over 524288 bytes"),  # the reading stopped past the limit
    (OSError("connection refused"), "could not be fetched (connection refused)"),
    ("hang", "not fetched within 0.05 s"),
])
def test_an_image_that_cannot_be_fetched_is_a_400_naming_its_part(answer, problem):
    url = "http://127.0.0.1:9/cat.png"

    with pytest.raises(ServiceFailed) as raised:
        asyncio.run(with_fetched_images(generation(data_url(PNG), url, deadline_ms=100), fetcher({url: answer})))

    failure = raised.value.failure
    assert (failure.code, failure.details["field"]) == ("invalid_request", "messages.0.content.2")
    assert problem in failure.message and failure.message.startswith("messages.0.content.2: ")


def test_fetched_images_count_in_the_requests_bytes_together():
    big = b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES - 8)
    urls = [f"https://example.com/{n}.png" for n in range(3)]

    with pytest.raises(ServiceFailed) as raised:
        asyncio.run(with_fetched_images(generation(*urls), fetcher({url: (200, "image/png", big) for url in urls})))

    assert raised.value.failure.details == {"field": "messages.0.content.3", "limit": MAX_REQUEST_IMAGE_BYTES}


def test_the_fetch_time_limit_leaves_the_model_half_the_callers_wait_at_least():
    assert fetch_timeout_s(None) == fetch_timeout_s(60_000) == 5.0
    assert fetch_timeout_s(3_000) == 1.5


def test_a_fetched_images_type_comes_from_its_answer_not_its_name():
    image = asyncio.run(fetched_image("https://example.com/photo.png", 1, fetcher({"https://example.com/photo.png": (200, "image/jpeg", JPEG)})))

    assert image.media_type == "image/jpeg"
