"""Request limits, checked in the api worker before any RPC or model call (and again by the
inference worker's models, so a caller that skips the api cannot exceed them)."""

MAX_BODY_BYTES = 1_048_576
# Levels of arrays and objects in a request body; a JSON Schema or event properties fit easily.
MAX_JSON_DEPTH = 32
MAX_MESSAGES = 100
MAX_TOOLS = 128  # functions one request may offer a model (OpenAI's limit)
MAX_OUTPUT_TOKENS = 4_096
DEFAULT_MAX_OUTPUT_TOKENS = 1_024
# Images in user messages (shared/images.py). A body holds at most MAX_BODY_BYTES, so an image sent
# in it (base64: a third larger) at most ~768 KiB; a fetched image is held to the same limits.
MAX_IMAGE_BYTES = 512 * 1024  # each image's bytes
MAX_IMAGES = 4  # a request's images
MAX_REQUEST_IMAGE_BYTES = 1_048_576  # a request's images together, fetched ones included
MAX_IMAGE_URL_CHARS = 2_048  # an http(s) image URL
MAX_EMBEDDING_INPUTS = 100
MAX_EMBEDDING_INPUT_CHARS = 8_000  # per text; bge models read at most 512 tokens
# Vectorize answers at most 20 matches a query with their metadata (a passage's text is there).
MAX_TOP_K = 20
# Slots of a rate window one admission may take ahead (shared/leases.py: READ_LEASE_SIZE, EVENTS_LEASE_SIZE).
MAX_LEASE_SIZE = 100
# JSON texts the project writes itself (RPC arguments and answers, stored rows, KV values, queue
# messages) still pass the reader's budget (shared/json_reader.py): as much as one RPC call can
# carry, and a body's levels wrapped in a few of the project's own.
MAX_INTERNAL_JSON_BYTES = 32 * 1_048_576
MAX_INTERNAL_JSON_DEPTH = 2 * MAX_JSON_DEPTH
