"""Writes the api worker's [[services]] bindings to its inference backends from backends.txt,
one worker name a line: the first bound as INFERENCE, the next as INFERENCE_2, and so on.

    make bindings                 # rewrites the block in wrangler.toml (unchanged if up to date)
    python3 scripts/bindings.py --check   # exit 1 if wrangler.toml does not match backends.txt

Only the block between the BEGIN/END lines is written; the rest of wrangler.toml is left as is.
Standard library only: deploy scripts run it before any environment exists."""

import argparse
import re
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BEGIN = "# BEGIN inference backends: written by `make bindings` from backends.txt (edit that list, not this block)"
END = "# END inference backends"
ENTRYPOINT = "InferenceService"
WORKER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # Cloudflare's rule for a worker's name


def read_backends(path: Path) -> list[str]:
    names = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not WORKER_NAME.match(line):
            raise SystemExit(f"{path}:{number}: {line!r} is not a worker name (lowercase letters, digits and -)")
        if line in names:
            raise SystemExit(f"{path}:{number}: {line} is listed twice")
        names.append(line)
    if not names:
        raise SystemExit(f"{path}: list at least one inference worker")
    return names


def binding_name(index: int) -> str:
    return "INFERENCE" if index == 0 else f"INFERENCE_{index + 1}"


def services_block(names: list[str]) -> str:
    blocks = [f'[[services]]\nbinding = "{binding_name(i)}"\nservice = "{name}"\nentrypoint = "{ENTRYPOINT}"'
              for i, name in enumerate(names)]
    return "\n".join([BEGIN, "\n\n".join(blocks), END])


def with_block(config: str, names: list[str]) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(config):
        raise SystemExit(f"the config has no block between {BEGIN!r} and {END!r} to rewrite")
    return pattern.sub(lambda _: services_block(names), config, count=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", type=Path, default=PROJECT_ROOT / "backends.txt")
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "wrangler.toml")
    parser.add_argument("--check", action="store_true", help="only say whether the config is up to date")
    args = parser.parse_args()
    names = read_backends(args.backends)
    current = args.config.read_text()
    wanted = with_block(current, names)
    if args.check:
        if wanted != current:
            print(f"{args.config} does not bind the backends in {args.backends}: run `make bindings`")
            return 1
        print(f"{args.config}: {len(names)} inference backend(s), up to date")
        return 0
    if wanted == current:
        print(f"==> {args.config.name}: {len(names)} inference backend(s), already up to date")
        return 0
    args.config.write_text(wanted)
    print(f"==> {args.config.name}: bound {', '.join(f'{binding_name(i)}={n}' for i, n in enumerate(names))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
