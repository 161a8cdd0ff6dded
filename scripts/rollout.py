"""Gradual rollout of every worker: a canary at a percentage of traffic, then all of it, or back.

    npm run deploy:canary -- --percent 10 --env production --smoke-url https://inference-ui-api.<you>.workers.dev
    npm run deploy:promote -- --env production --smoke-url ...   # the new versions to 100%
    npm run deploy:abort -- --env production                      # the previous versions back to 100%

The canary uploads a new version of each worker (`wrangler versions upload`, tagged) and deploys
it beside the version serving now (`wrangler versions deploy NEW@P% OLD@(100-P)%`): the inference
workers first (the primary, then the D1 migrations, then the others), the api last, so that a new
api is never served before the backends it calls. Promote takes the inference workers to 100%
first, then the api; abort goes the other way, the api first (as scripts/deploy.py's rollback).
Each worker's new and previous version are recorded in .wrangler/rollout-<env>.json by the
canary, which promote and abort read. With --smoke-url, the deployed api is checked after the
canary and after the promotion (GET /health answers 200 and ok): a failed check aborts the
rollout. A worker must have been deployed once (`npm run deploy:<env>`) before its first canary."""

import argparse
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import bindings  # noqa: E402
from scripts.deploy import API_WORKER, tool_command, tool_environment  # noqa: E402

PROJECT_ROOT = bindings.PROJECT_ROOT
VERSION_ID = re.compile(r"Worker Version ID:\s*([0-9A-Za-z-]+)")
SMOKE_TIMEOUT_SECONDS = 30


class RolloutFailed(Exception):
    pass


@dataclass(frozen=True)
class Worker:
    """One worker as the rollout handles it: its deployed name, where wrangler runs for it, and the
    arguments that select its config and environment."""

    name: str
    cwd: Path
    selection: list[str]


def workers(root: Path, backends: list[str], env: str | None) -> list[Worker]:
    """Every worker in deploy order: the inference workers (primary first), then the api."""
    environment = ["--env", env] if env else []
    primary, *others = backends
    found = [Worker(bindings.env_name(primary, env), root / "inference_worker", environment or ["--name", primary])]
    found += [Worker(bindings.env_name(name, env), root / "inference_worker", ["-c", bindings.secondary_path(name).name, *environment])
              for name in others]
    return found + [Worker(bindings.env_name(API_WORKER, env), root, environment)]


class Wrangler:
    """Runs the tool (pywrangler or wrangler) for the rollout, printing each step."""

    def __init__(self, command: list[str], root: Path) -> None:
        self.command = command
        self.root = root

    def run(self, what: str, cwd: Path, arguments: list[str], capture: bool = False) -> str:
        print(f"==> {what}: {' '.join([Path(self.command[0]).name, *arguments])}", flush=True)
        result = subprocess.run([*self.command, *arguments], cwd=cwd, env=tool_environment(self.root),
                                capture_output=capture, text=True)
        if capture:
            print(result.stdout, end="", flush=True)
        if result.returncode != 0:
            raise RolloutFailed(f"{what} failed{': ' + result.stderr.strip() if capture and result.stderr else ''}")
        return result.stdout if capture else ""

    def serving(self, worker: Worker) -> str:
        """The version serving all of the worker's traffic now (a split means a rollout is under way)."""
        status = json.loads(self.run(f"{worker.name}: deployment", worker.cwd,
                                     ["deployments", "status", "--name", worker.name, "--json"], capture=True))
        versions = status.get("versions", [])
        if len(versions) != 1:
            split = ", ".join(f"{v['version_id']}@{v['percentage']}%" for v in versions)
            raise RolloutFailed(f"{worker.name} serves {split or 'nothing'}: promote or abort that rollout first")
        return versions[0]["version_id"]

    def deploy(self, worker: Worker, shares: dict[str, float], message: str) -> None:
        specs = [f"{version}@{percent:g}%" for version, percent in shares.items() if percent > 0]
        self.run(f"{worker.name}: {' '.join(specs)}", worker.cwd,
                 ["versions", "deploy", *specs, "--name", worker.name, "--message", message, "--yes"])


def state_path(root: Path, env: str | None) -> Path:
    return root / ".wrangler" / f"rollout-{env or 'default'}.json"


def smoke_test(url: str) -> None:
    """The deployed api answers its health check: 200 and ok."""
    target = url.rstrip("/") + "/health"
    print(f"==> smoke test: GET {target}", flush=True)
    try:
        with urllib.request.urlopen(target, timeout=SMOKE_TIMEOUT_SECONDS) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RolloutFailed(f"smoke test failed: {target}: {exc}") from None
    if body.get("ok") is not True:
        raise RolloutFailed(f"smoke test failed: {target} is not ok: {body}")


def canary(tool: Wrangler, root: Path, rolled: list[Worker], env: str | None, percent: float, tag: str, extra: list[str]) -> dict:
    """Each worker's new version at `percent`, beside the one serving now; the state to record."""
    state: dict[str, dict[str, str]] = {}
    for index, worker in enumerate(rolled):
        previous = tool.serving(worker)
        output = tool.run(f"{worker.name}: upload", worker.cwd,
                          ["versions", "upload", *worker.selection, "--tag", tag, "--message", f"canary {tag}", *extra], capture=True)
        if (found := VERSION_ID.search(output)) is None:
            raise RolloutFailed(f"{worker.name}: the upload printed no version id")
        if index == 0:  # forward-only migrations: the versions serving now ignore what they add
            tool.run("D1 migrations", worker.cwd, ["d1", "migrations", "apply", "DB", "--remote", *(["--env", env] if env else [])])
        state[worker.name] = {"new": found.group(1), "previous": previous}
        tool.deploy(worker, {found.group(1): percent, previous: 100 - percent}, f"canary {tag} at {percent:g}%")
        # Recorded worker by worker: an abort after a failure half-way puts back those already split.
        state_path(root, env).parent.mkdir(parents=True, exist_ok=True)
        state_path(root, env).write_text(json.dumps(state, indent=2))
    return state


def finish(tool: Wrangler, rolled: list[Worker], state: dict, promote: bool) -> None:
    """Every recorded worker at 100% of its new version (promote, inference workers first) or of
    its previous one (abort, api first)."""
    order = rolled if promote else list(reversed(rolled))
    for worker in order:
        if worker.name not in state:
            continue
        version = state[worker.name]["new" if promote else "previous"]
        tool.deploy(worker, {version: 100}, "promote" if promote else "abort")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["canary", "promote", "abort"])
    parser.add_argument("--percent", type=float, help="canary: the share of traffic the new versions get (more than 0, less than 100)")
    parser.add_argument("--env", choices=sorted(bindings.ENVIRONMENTS), help="the environment (wrangler --env); none: the top level")
    parser.add_argument("--smoke-url", help="the deployed api's URL: checked after the canary and the promotion; a failure aborts")
    parser.add_argument("--tag", default="canary", help="the new versions' tag (e.g. the commit)")
    parser.add_argument("--tool", help="pywrangler (the default for a canary, which uploads), wrangler, or a command's path")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    # After --: arguments for every upload (e.g. --var NAME:VALUE), set apart before parsing.
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:len(argv) - len(extra) - (1 if "--" in argv else 0)])
    if args.action == "canary" and (args.percent is None or not 0 < args.percent < 100):
        parser.error("canary needs --percent, more than 0 and less than 100 (promote takes it to 100)")
    backends = bindings.read_backends(args.root / "backends.txt")
    config = args.root / "wrangler.toml"
    if bindings.with_block(config.read_text(), backends) != config.read_text():
        print(f"{config} does not bind the backends in backends.txt: run `make bindings` first")
        return 1
    name = args.tool or ("pywrangler" if args.action == "canary" else "wrangler")
    tool = Wrangler(tool_command(name, args.root) if name in ("pywrangler", "wrangler") else [name], args.root)
    rolled = workers(args.root, backends, args.env)
    path = state_path(args.root, args.env)
    try:
        if args.action == "canary":
            for backend in backends[1:]:
                bindings.write_secondary(backend, args.root / "backends.txt", args.root / "inference_worker" / "wrangler.toml")
            path.unlink(missing_ok=True)
            canary(tool, args.root, rolled, args.env, args.percent, args.tag, extra)
        else:
            if not path.exists():
                print(f"==> no canary is recorded in {path}: nothing to {args.action}")
                return 0 if args.action == "abort" else 1
            finish(tool, rolled, json.loads(path.read_text()), promote=args.action == "promote")
            if args.action == "abort":
                path.unlink()
        if args.smoke_url and args.action != "abort":
            smoke_test(args.smoke_url)
    except RolloutFailed as failed:
        print(f"==> {failed}")
        if args.action != "abort" and path.exists():
            print("==> aborting: every worker back to its previous version, the api first")
            try:
                finish(tool, rolled, json.loads(path.read_text()), promote=False)
                path.unlink()
            except RolloutFailed as also:
                print(f"==> the abort failed too: {also}; run `npm run deploy:abort` again")
        return 1
    if args.action == "promote":
        path.unlink()
    done = {"promote": "at 100%", "abort": "back to the previous versions"}.get(args.action) or f"at {args.percent:g}%"
    print(f"==> {len(rolled) - 1} inference worker(s) and the api worker {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
