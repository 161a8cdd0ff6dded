"""`make openapi`: writes the api's OpenAPI 3.1 document (api_worker/api/openapi.py) to
docs/openapi.json; `--check` writes nothing and fails if the file is not what the code makes
(a unit test runs it, so a stale document fails `make test`).

    make openapi
    make openapi ARGS=--check
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
sys.path[:0] = [str(ROOT), str(ROOT / "api_worker")]
from api.openapi import DOCUMENT_TEXT  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is stale; write nothing")
    args = parser.parse_args(argv)
    current = DOCUMENT.read_text() if DOCUMENT.exists() else None
    if args.check:
        if current != DOCUMENT_TEXT:
            print(f"{DOCUMENT.relative_to(ROOT)} is stale: run `make openapi`")
            return 1
        print(f"{DOCUMENT.relative_to(ROOT)} is current")
        return 0
    if current == DOCUMENT_TEXT:
        print(f"{DOCUMENT.relative_to(ROOT)}: unchanged")
        return 0
    DOCUMENT.write_text(DOCUMENT_TEXT)
    print(f"Wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
