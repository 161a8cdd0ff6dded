"""Method + path routing, answering unknown paths with 404, wrong methods with 405, and methods
no route takes, on a path that has no route either, with 501. A path segment written `{name}`
matches any one non-empty segment, read with `path_params`; a last segment written `{name:path}`
matches the rest of the path, slashes included (a model id such as `@cf/meta/llama-3.1-8b-instruct-fast`,
which clients send as it is or with its slashes escaped)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from shared.errors import ApiError, ErrorCode

# A handler, or "module:function" naming one (the route table stays plain data, readable without
# the handlers' modules; api/app.py imports them all at its own import).
Handler = Callable[[Any], Awaitable[Any]] | str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    public: bool = False  # reachable without credentials
    # What admission counts against: "ai" (the daily token quota), "events" (the daily event
    # quota) or "read" (the per-minute rate limit only).
    kind: str = "read"
    # Whether the ADMIN_TOKEN is accepted here (the admin API); elsewhere it is refused.
    admin: bool = False
    # Where a browser asking for HTML is sent instead, without credentials: a static page that
    # calls this route with the caller's (GraphiQL for /graphql).
    page: str | None = None


def _fill(template: str, path: str) -> dict[str, str] | None:
    """The template's `{name}` segments as found in `path`, or None if it does not fit."""
    expected, given = template.split("/"), path.split("/")
    if expected[-1].endswith(":path}") and len(given) > len(expected):
        given = [*given[:len(expected) - 1], "/".join(given[len(expected) - 1:])]
    if len(expected) != len(given):
        return None
    params = {}
    for want, have in zip(expected, given, strict=True):
        if want.startswith("{") and want.endswith("}"):
            if not have:
                return None
            params[want[1:-1].removesuffix(":path")] = unquote(have)
        elif want != have:
            return None
    return params


class Router:
    def __init__(self) -> None:
        self._by_path: dict[str, dict[str, Route]] = {}

    def add(self, method: str, path: str, handler: Handler, *, public: bool = False, kind: str = "read",
            admin: bool = False, page: str | None = None) -> None:
        methods = self._by_path.setdefault(path, {})
        if method in methods:
            raise ValueError(f"{method} {path} is routed twice")
        methods[method] = Route(method, path, handler, public, kind, admin, page)

    def _methods(self, path: str) -> dict[str, Route] | None:
        if len(path) > 1:
            path = path.rstrip("/")
        if (methods := self._by_path.get(path)) is not None:
            return methods
        return next((methods for template, methods in self._by_path.items() if "{" in template and _fill(template, path) is not None),
                    None)

    def methods_for(self, path: str) -> list[str]:
        """The methods routed at `path` (empty for an unknown path)."""
        return sorted(self._methods(path) or {})

    @staticmethod
    def path_params(route: Route, path: str) -> dict[str, str]:
        return _fill(route.path, path.rstrip("/") if len(path) > 1 else path) or {}

    def implemented_methods(self) -> list[str]:
        """Every method some route takes, with HEAD (GET's) and OPTIONS (CORS preflights)."""
        return sorted({route.method for route in self.routes()} | {"HEAD", "OPTIONS"})

    def routes(self) -> list[Route]:
        return [route for methods in self._by_path.values() for route in methods.values()]

    def match(self, method: str, path: str) -> Route:
        if len(path) > 1:
            path = path.rstrip("/")
        methods = self._methods(path)
        if methods is None:
            implemented = self.implemented_methods()
            if method not in implemented:
                raise ApiError(ErrorCode.NOT_IMPLEMENTED, f"{method} is not a method this API implements",
                               method=method, implemented=implemented)
            raise ApiError(ErrorCode.NOT_FOUND, f"No route for {path}", path=path)
        route = methods.get("GET" if method == "HEAD" else method)
        if route is None:
            allowed = sorted(set(methods) | ({"HEAD"} if "GET" in methods else set()))
            raise ApiError(
                ErrorCode.METHOD_NOT_ALLOWED,
                f"{method} is not allowed on {path}",
                headers={"allow": ", ".join(allowed)},
                allowed=allowed,
            )
        return route
