"""What a 405 must list: every method some route accepts at the request's path."""

from starlette.requests import Request
from starlette.routing import Match

METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Starlette's router names only the first route that matched the path, while FastAPI has
    one route per method (in nested routers): ask every route about every method."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)
