"""The project's pages load nothing from another origin: their scripts and stylesheets are the
playground's own bundle (scripts/build-playground.mjs), so they work offline and no CDN can
change what runs where the key is."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

PLAYGROUND = Path(__file__).resolve().parents[2] / "playground"
PAGES = {page.name: page.read_text() for page in sorted(PLAYGROUND.glob("*.html"))}


class ExternalAssets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        url = attributes.get("src") if tag == "script" else attributes.get("href") if tag == "link" and "stylesheet" in attributes.get("rel", "") else None
        if url and re.match(r"^(https?:)?//", url):
            self.assets.append(url)


def external_assets(html: str) -> list[str]:
    parser = ExternalAssets()
    parser.feed(html)
    return parser.assets


@pytest.mark.parametrize("page", sorted(PAGES))
def test_no_page_loads_a_script_or_stylesheet_from_another_origin(page):
    assert external_assets(PAGES[page]) == []


def test_the_check_sees_a_script_from_another_origin():
    assert external_assets('<script src="https://unpkg.com/graphiql@4.1.2/graphiql.min.js"></script>') == [
        "https://unpkg.com/graphiql@4.1.2/graphiql.min.js"]


def test_the_graphiql_page_is_served_under_a_policy_without_other_origins():
    headers = (PLAYGROUND / "_headers").read_text()
    rule = headers.split("\n/graphiql\n", 1)[1]
    policy = next(line for line in rule.splitlines() if line.strip().startswith("Content-Security-Policy:"))
    assert "https:" not in policy and "unpkg" not in policy
