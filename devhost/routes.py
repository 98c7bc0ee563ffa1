"""Match request paths against Azure Functions route templates.

Supports the template forms the app uses: literal segments, ``{name}`` for one
segment and ``{*name}`` for the rest of the path. Like ASP.NET routing, a template
with more literal segments wins over one with parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class Route:
    template: str
    methods: frozenset[str]
    function_name: str

    @property
    def segments(self) -> list[str]:
        return [s for s in self.template.strip("/").split("/") if s]

    @property
    def precedence(self) -> tuple[int, int]:
        segments = self.segments
        literals = sum(1 for s in segments if not s.startswith("{"))
        catch_all = any(s.startswith("{*") for s in segments)
        return (0 if catch_all else 1, literals)

    def match(self, path: str) -> dict[str, str] | None:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        params: dict[str, str] = {}
        template = self.segments
        for index, segment in enumerate(template):
            if segment.startswith("{*"):
                params[segment[2:-1]] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1].split(":", 1)[0].rstrip("?")
                params[name] = parts[index]
            elif segment.lower() != parts[index].lower():
                return None
        return params if len(parts) == len(template) else None


def find_route(
    routes: list[Route], method: str, path: str
) -> tuple[Route | None, dict[str, str], bool]:
    """Return the best route for ``path``, its parameters and whether any path matched.

    The third value lets the caller tell 404 (no template matches) from 405.
    """
    path_matched = False
    for route in sorted(routes, key=lambda r: r.precedence, reverse=True):
        params = route.match(path)
        if params is None:
            continue
        path_matched = True
        if method.upper() in route.methods:
            return route, params, True
    return None, {}, path_matched
