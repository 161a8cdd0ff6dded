"""The image parts of a chat body, in either dialect (OpenAI's `image_url` parts, the AI SDK's
`file` parts with an image media type), as the contract's ImageInput: each checked
(shared/images.py) and named by where it is (`messages.0.content.1`), so a bad one is a 400
naming its part before any RPC. Whether the model reads images is the inference service's to
say: it knows where routing sends the request (inference/planning.py)."""

from shared.contract import ImageInput
from shared.errors import ApiError, ErrorCode
from shared.images import ImageBudget, ImageProblem, check_url, checked_type, inline_bytes


class ImageReader:
    """One request's image parts, read one by one: its count and the bytes sent in the body are
    held to the request's limits as they come."""

    def __init__(self) -> None:
        self.budget = ImageBudget()

    def read(self, url: str, field: str, role: str, declared: str | None = None) -> ImageInput:
        """The image at `url`, given at `field` in a message of `role`, with the media type the
        part declares (the AI SDK's `mediaType`), if it does."""
        try:
            if role != "user":
                raise ImageProblem(f"images are read in user messages only, not in a {role} message")
            media_type = checked_type(declared) if declared is not None else None
            image = check_url(url)
            if image is not None and media_type is not None and image.media_type != media_type:
                raise ImageProblem(f"mediaType is {media_type}, but the data URL holds {image.media_type}")
            self.budget.take(inline_bytes(url))
        except ImageProblem as problem:
            raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}: {problem}", field=field, **problem.details) from None
        return ImageInput.model_construct(url=url, field=field)  # checked just now: not decoded twice
