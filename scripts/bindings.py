"""Writes the api worker's [[services]] bindings to its inference backends from backends.txt,
one worker name a line: the first bound as INFERENCE, the next as INFERENCE_2, and so on; and the
config of a backend after the first.

    make bindings                 # rewrites the block in wrangler.toml (unchanged if up to date)
    python3 scripts/bindings.py --check   # exit 1 if wrangler.toml does not match backends.txt
    python3 scripts/bindings.py --secondary inference-eu   # writes inference_worker/.inference-eu.wrangler.toml

Only the block between the BEGIN/END lines is written; the rest of wrangler.toml is left as is.
The first backend (the primary) consumes the event queue and owns the KeyCounter Durable Object
class; a secondary is the same worker without the blocks marked "primary only" in
inference_worker/wrangler.toml (a queue has one consumer, a class one owner), its Durable Object
bindings pointing at the primary's class (`script_name`), so that every backend counts a key in
the same object. Each secondary's config is written next to the primary's (its relative paths
hold there) as `.<name>.wrangler.toml`, git-ignored. Standard library only: deploy scripts run it before any environment exists."""

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


# Deployment environments (`--env`), and what each adds to a worker's name.
ENVIRONMENTS = {"staging": "-staging", "production": ""}


def env_name(name: str, env: str | None) -> str:
    return name + (ENVIRONMENTS[env] if env else "")


def services_block(names: list[str]) -> str:
    blocks = [f'[[{prefix}services]]\nbinding = "{binding_name(i)}"\nservice = "{env_name(name, env)}"\nentrypoint = "{ENTRYPOINT}"'
              for env, prefix in [(None, ""), *((env, f"env.{env}.") for env in ENVIRONMENTS)]
              for i, name in enumerate(names)]
    return "\n".join([BEGIN, "\n\n".join(blocks), END])


PRIMARY_ONLY = re.compile(r"^# BEGIN primary only.*?^# END primary only\n", re.S | re.M)
INFERENCE_CONFIG = PROJECT_ROOT / "inference_worker" / "wrangler.toml"


def secondary_config(config: str, primary: str, name: str) -> str:
    """The inference worker's config for a backend after the first (see the module's docstring),
    in every environment: its name, and its counters bound to that environment's primary."""
    if not PRIMARY_ONLY.search(config):
        raise SystemExit("the inference worker's config has no '# BEGIN primary only' ... '# END primary only' block")
    out, env, table = [], None, ""
    for line in PRIMARY_ONLY.sub("", config).splitlines():
        if line.startswith("["):
            table = line.strip("[] ")
            env = header.group(1) if (header := re.match(r"^env\.(\w+)", table)) else None
        # The worker's own name: at the top level, or in an environment's own table.
        if re.match(r'^name = "[^"]*"$', line) and (table == "" or table == f"env.{env}"):
            line = f'name = "{env_name(name, env)}"'
        out.append(line)
        if re.match(r'^class_name = "[^"]*"$', line):
            out.append(f'script_name = "{env_name(primary, env)}"')
    return "\n".join(out) + "\n"


def secondary_path(name: str, config: Path = INFERENCE_CONFIG) -> Path:
    return config.with_name(f".{name}.wrangler.toml")


def write_secondary(name: str, backends: Path, config: Path = INFERENCE_CONFIG) -> Path:
    primary = read_backends(backends)[0]
    if name == primary:
        raise SystemExit(f"{name} is the primary backend: its config is {config}")
    target = secondary_path(name, config)
    target.write_text(f"# Written by scripts/bindings.py for {name} (a backend after {primary}); not committed.\n"
                      + secondary_config(config.read_text(), primary, name))
    return target


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
    parser.add_argument("--secondary", metavar="NAME", help="write the config of backend NAME (not the first) and print its path")
    args = parser.parse_args()
    if args.secondary:
        print(write_secondary(args.secondary, args.backends))
        return 0
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
