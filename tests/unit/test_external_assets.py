"""Every script and stylesheet a page of the project loads from another origin is pinned to an
exact version and carries an SRI hash, so that the CDN cannot change what runs where the key is."""

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.graphiql import GRAPHIQL_PAGE

PLAYGROUND = Path(__file__).resolve().parents[2] / "playground"
PAGES = {"GET /graphql": GRAPHIQL_PAGE, **{f"playground/{page.name}": page.read_text() for page in sorted(PLAYGROUND.glob("*.html"))}}
# `name@1.2.3/` or `@scope/name@1.2.3/`: an exact version, not a range or a tag.
EXACT_VERSION = re.compile(r"^https://[^/]+/(@[^/@]+/)?[^/@]+@\d+\.\d+\.\d+/")


class ExternalAssets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        url = attributes.get("src") if tag == "script" else attributes.get("href") if tag == "link" and "stylesheet" in attributes.get("rel", "") else None
        if url and re.match(r"^(https?:)?//", url):
            self.assets.append({"url": url, **attributes})


def external_assets(html: str) -> list[dict[str, str]]:
    parser = ExternalAssets()
    parser.feed(html)
    return parser.assets


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_external_script_and_stylesheet_is_pinned_and_carries_its_sri_hash(page):
    for asset in external_assets(PAGES[page]):
        assert EXACT_VERSION.match(asset["url"]), f"{page}: {asset['url']} is not pinned to an exact version"
        algorithm, _, digest = asset.get("integrity", "").partition("-")
        assert algorithm == "sha384" and len(base64.b64decode(digest, validate=True)) == 48, f"{page}: {asset['url']} has no sha384 integrity"
        assert asset.get("crossorigin") == "anonymous", f"{page}: {asset['url']} is not fetched with CORS (SRI needs it)"


def test_the_static_graphiql_page_loads_the_same_files_as_the_api_route():
    def loaded(html):
        return [(asset["url"], asset["integrity"]) for asset in external_assets(html)]

    assert loaded(PAGES["playground/graphiql.html"]) == loaded(GRAPHIQL_PAGE)
    assert len(loaded(GRAPHIQL_PAGE)) == 4
