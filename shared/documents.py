"""Documents for retrieval-augmented answers: what a caller uploads, how its text is split into
passages, what a search returns, and how found passages ground a generation. Plain Python.

A document's passages are its text split on structure (Markdown headings, then blank lines,
then sentences), packed up to PASSAGE_CHARS with OVERLAP_CHARS of the previous passage carried
over, so that an answer spanning a boundary is still found whole in one passage. No passage is
longer than PASSAGE_CHARS."""

import re
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import to_json

from shared.base import Model
from shared.contract import Retrieval, Source, WorkRequest

MAX_DOCUMENT_BYTES = 512 * 1024  # of UTF-8 text
MAX_TITLE_CHARS = 200
MAX_METADATA_BYTES = 2_048
PASSAGE_CHARS = 1_000
OVERLAP_CHARS = 150
EMBED_BATCH = 50  # passages embedded in one model call, and upserted in one Vectorize call
DocumentStatus = Literal["ingesting", "ready", "failed", "deleting"]


class DocumentIn(Model):
    """A document as a caller sends it."""

    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    text: str = Field(min_length=1)
    metadata: dict[str, Any] | None = None

    @field_validator("text")
    @classmethod
    def _within_size(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("holds no text")
        size = len(text.encode())
        if size > MAX_DOCUMENT_BYTES:
            raise ValueError(f"holds {size} bytes of UTF-8; the limit is {MAX_DOCUMENT_BYTES}")
        return text

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, metadata: dict[str, Any] | None) -> dict[str, Any] | None:
        if metadata is not None and len(to_json(metadata)) > MAX_METADATA_BYTES:
            raise ValueError(f"must serialize to at most {MAX_METADATA_BYTES} bytes")
        return metadata


class DocumentRequest(WorkRequest):
    document: DocumentIn


class DocumentRef(WorkRequest):
    document_id: str = Field(min_length=1, max_length=64)


class DocumentInfo(Model):
    id: str
    title: str
    metadata: dict[str, Any] | None = None
    bytes: int
    passages: int
    embedded: int  # passages in the index so far
    status: DocumentStatus
    error: str | None = None  # why ingestion stopped, when it failed
    created_at: str


class SearchRequest(WorkRequest):
    query: str = Field(min_length=1, max_length=4_000)
    retrieval: Retrieval = Field(default_factory=Retrieval)


class SearchResult(Model):
    sources: list[Source]


_HEADING = re.compile(r"(?m)^(?=#{1,6} )")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# A block fits in a passage after the overlap carried over (and the blank line between them).
MAX_BLOCK_CHARS = PASSAGE_CHARS - OVERLAP_CHARS - 2


def _blocks(text: str) -> list[str]:
    """Sections (at Markdown headings), then paragraphs; a paragraph longer than a block is cut
    at sentence ends, and a sentence longer than that every MAX_BLOCK_CHARS."""
    blocks = []
    for section in _HEADING.split(text):
        for paragraph in re.split(r"\n\s*\n", section):
            paragraph = paragraph.strip()
            if not paragraph:
                continue
            if len(paragraph) <= MAX_BLOCK_CHARS:
                blocks.append(paragraph)
                continue
            for sentence in _SENTENCE_END.split(paragraph):
                blocks += [sentence[i:i + MAX_BLOCK_CHARS] for i in range(0, len(sentence), MAX_BLOCK_CHARS)]
    return blocks


def split_passages(text: str) -> list[str]:
    passages: list[str] = []
    current = ""
    for block in _blocks(text):
        if current and len(current) + 2 + len(block) > PASSAGE_CHARS:
            passages.append(current)
            tail = current[-OVERLAP_CHARS:]
            current = tail[tail.find(" ") + 1:] if " " in tail else tail  # from a word's start
        current = f"{current}\n\n{block}" if current else block
    if current:
        passages.append(current)
    return passages


def passage_id(document_id: str, number: int) -> str:
    return f"{document_id}#{number}"


def grounding(sources: list[Source]) -> str:
    """The system message that puts the found passages before the conversation."""
    numbered = "\n\n".join(f"[{i}] {source.title} (passage {source.passage}):\n{source.text}" for i, source in enumerate(sources, 1))
    return ("Answer from the passages below when they hold the answer, and cite them by number, e.g. [1]. "
            "If they do not hold it, say so.\n\n" + numbered)
