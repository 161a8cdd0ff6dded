"""Deploys every inference worker in backends.txt, then the api worker: the api is never left
bound to a backend that does not exist yet. Stops at the first failure.

    npm run deploy:all                        # pywrangler: vendors Python packages, then deploys
    python3 scripts/deploy.py --dry-run --tool wrangler   # builds every bundle into dist/, offline
    npm run rollback                          # each worker back to its previous version, api first

A rollback goes the other way: the api first (an older api calls only what every newer backend
still answers: the contract's new fields are optional), then each backend.

Each backend is the one inference worker under its own name: the first (the primary, which
consumes the event queue and owns the key counters) with inference_worker/wrangler.toml, the
others with the config scripts/bindings.py writes for them (`.<name>.wrangler.toml`, without
the primary's consumers and classes). The api's [[services]] must match the list (`make
bindings`), which is checked first. Arguments after `--` go to every deploy (e.g. `-- --env production`)."""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import bindings  # noqa: E402

PROJECT_ROOT = bindings.PROJECT_ROOT
API_WORKER = "inference-ui-api"


def tool_command(tool: str, root: Path) -> list[str]:
    if tool == "wrangler":
        return [str(root / "node_modules" / ".bin" / "wrangler")]
    found = shutil.which(tool) or shutil.which(tool, path=str(root / ".venv" / "bin"))  # make setup installs pywrangler there
    if found is None:
        raise SystemExit(f"{tool} is not installed: `make setup` installs pywrangler (or pass --tool wrangler)")
    return [found]


def tool_environment(root: Path) -> dict[str, str]:
    """The environment every step runs in: .venv/bin first on PATH, where `make setup` installs
    pywrangler and the `uv` it runs (pywrangler looks for it on PATH)."""
    return {**os.environ, "PATH": os.pathsep.join([str(root / ".venv" / "bin"), os.environ.get("PATH", "")])}


def plan(root: Path, backends: list[str], env: str | None, dry_run: bool, extra: list[str]) -> list[tuple[str, Path, list[str]]]:
    """(what, where, arguments) for each step, in order: the primary backend, the D1 migrations
    (the primary's first deploy creates its database), the other backends, the api worker."""
    environment = ["--env", env] if env else []

    def options(name: str) -> list[str]:
        return ["--dry-run", "--outdir", str(root / "dist" / bindings.env_name(name, env))] if dry_run else []

    # The first backend with the config as it is (its name from the environment, or the list's);
    # the others with theirs (bindings.write_secondary).
    primary = backends[0]
    naming = environment or ["--name", primary]
    steps = [(f"inference worker {bindings.env_name(primary, env)}", root / "inference_worker",
              ["deploy", *naming, *options(primary), *extra])]
    if not dry_run:
        steps.append(("D1 migrations", root / "inference_worker", ["d1", "migrations", "apply", "DB", "--remote", *environment]))
    steps += [(f"inference worker {bindings.env_name(name, env)}", root / "inference_worker",
               ["deploy", "-c", bindings.secondary_path(name).name, *environment, *options(name), *extra]) for name in backends[1:]]
    steps.append(("api worker", root, ["deploy", *environment, *options(API_WORKER), *extra]))
    return steps


def rollback_plan(root: Path, backends: list[str], env: str | None, extra: list[str]) -> list[tuple[str, Path, list[str]]]:
    message = ["--message", "npm run rollback", "--yes"]
    steps = [("api worker", root, ["rollback", "--name", bindings.env_name(API_WORKER, env), *message, *extra])]
    return steps + [(f"inference worker {bindings.env_name(name, env)}", root / "inference_worker",
                     ["rollback", "--name", bindings.env_name(name, env), *message, *extra]) for name in backends]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="build each bundle into dist/ without uploading")
    parser.add_argument("--rollback", action="store_true", help="roll each worker back to its previous version, api first")
    parser.add_argument("--env", choices=sorted(bindings.ENVIRONMENTS), help="the environment (wrangler --env); none: the top level")
    parser.add_argument("--tool", help="pywrangler (the default; wrangler for a dry run or a rollback: nothing to vendor), "
                                       "wrangler, or a command's path")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help="after --: arguments for every deploy")
    args = parser.parse_args()
    backends = bindings.read_backends(args.root / "backends.txt")
    config = args.root / "wrangler.toml"
    if bindings.with_block(config.read_text(), backends) != config.read_text():
        print(f"{config} does not bind the backends in backends.txt: run `make bindings` first")
        return 1
    # pywrangler vendors the packages, then runs wrangler: a dry run (setup vendored them already)
    # and a rollback need only wrangler, which works offline for a dry run.
    tool = args.tool or ("wrangler" if args.rollback or args.dry_run else "pywrangler")
    command = tool_command(tool, args.root) if tool in ("pywrangler", "wrangler") else [tool]
    if args.rollback:
        steps = rollback_plan(args.root, backends, args.env, args.extra)
    else:
        steps = plan(args.root, backends, args.env, args.dry_run, args.extra)
    if not args.rollback:
        for name in backends[1:]:
            bindings.write_secondary(name, args.root / "backends.txt", args.root / "inference_worker" / "wrangler.toml")
    for number, (what, cwd, arguments) in enumerate(steps, 1):
        print(f"==> [{number}/{len(steps)}] {what}: {' '.join([Path(command[0]).name, *arguments])}", flush=True)
        if subprocess.run([*command, *arguments], cwd=cwd, env=tool_environment(args.root)).returncode != 0:
            print(f"==> {what} failed: stopped; nothing after it was {'rolled back' if args.rollback else 'deployed'}")
            return 1
    done = "rolled back: the api worker, then" if args.rollback else "built:" if args.dry_run else "deployed:"
    print(f"==> {done} {len(backends)} inference worker(s){'' if args.rollback else ', then the api worker'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
