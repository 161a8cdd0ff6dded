"""Embedding vectors as JSON text, end to end: the inference service hands the AI binding's vectors
over as the JSON the runtime wrote, and the api writes them into OpenAI's answer as they are.

Why: a 100-text batch is 76,800 numbers. As Python floats they cost tens of milliseconds of CPU in
Pyodide (converted from JavaScript, validated, written to JSON, read back and written again),
more than the free plan's 10 ms an invocation; as text they are copied."""

import json
import re
from typing import Any

_BETWEEN_VECTORS = re.compile(r"\]\s*,\s*\[")


def vector_texts(vectors_json: str) -> list[str]:
    """Each vector's numbers as JSON wrote them, from the JSON text of a list of number lists
    (numbers hold no brackets, so "],[" stands only between two vectors)."""
    inner = vectors_json.strip()[1:-1].strip()
    if not inner:
        return []
    return [part.strip().removeprefix("[").removesuffix("]") for part in _BETWEEN_VECTORS.split(inner)]


def embedding_list_json(vectors_json: str, model: str, usage: dict[str, Any]) -> str:
    """OpenAI's embeddings answer (`encoding_format` float) around vectors given as JSON text."""
    data = ",".join(f'{{"object":"embedding","index":{index},"embedding":[{numbers}]}}'
                    for index, numbers in enumerate(vector_texts(vectors_json)))
    usage_json = json.dumps({"prompt_tokens": usage["prompt_tokens"], "total_tokens": usage["total_tokens"]}, separators=(",", ":"))
    return f'{{"object":"list","data":[{data}],"model":{json.dumps(model)},"usage":{usage_json}}}'
