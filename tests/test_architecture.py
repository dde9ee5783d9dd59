"""Layering rules, read from the source: the domain knows no web framework, and the web
adapters reach the database only through services."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "api"

WEB_MODULES = (
    "fastapi",
    "starlette",
    "strawberry",
    "graphql",
    "api.routers",
    "api.schema",
    "api.main",
    "api.deps",
    "api.errors",
)
DATABASE_MODULES = ("sqlalchemy", "sqlmodel")


def imports_in(source: str, package: str) -> Iterator[str]:
    """Every module the source imports, anywhere (also inside functions), relative imports
    resolved against `package`. `from api import errors` yields `api` and `api.errors`, so
    importing a module through its package is caught too."""
    parts = package.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names if alias.name != "*")


def imports_of(path: Path) -> set[str]:
    parts = path.relative_to(API.parent).with_suffix("").parts
    package = ".".join(parts[:-1])  # for __init__.py the folder is the package itself
    return set(imports_in(path.read_text(encoding="utf-8"), package))


def is_within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(API.parent)} imports {module}"
        for path in sorted(folder.rglob("*.py"))
        for module in sorted(imports_of(path))
        if is_within(module, forbidden)
    ]


def test_import_reader_sees_what_modules_import() -> None:
    # The layering rules pass vacuously if the reader misses imports: check it first.
    main = imports_of(API / "main.py")
    assert {"fastapi", "api.errors", "api.routers.units"} <= main
    source = (
        "import os.path\n"
        "from . import models\n"
        "from ..households.service import HouseholdService\n"
        "def later() -> None:\n"
        "    import fastapi.responses\n"
    )
    assert set(imports_in(source, "api.domain.units")) == {
        "os.path",
        "api.domain.units",
        "api.domain.units.models",
        "api.domain.households.service",
        "api.domain.households.service.HouseholdService",
        "fastapi.responses",
    }
    assert is_within("sqlalchemy.ext.asyncio", DATABASE_MODULES)
    assert is_within("api.errors", WEB_MODULES)
    assert not is_within("api.domain.errors", WEB_MODULES)
    assert not is_within("api.schemas_helper", ("api.schema",))


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        pytest.param("domain", WEB_MODULES, id="domain-imports-no-web-framework"),
        pytest.param("routers", DATABASE_MODULES, id="rest-adapters-import-no-database"),
        pytest.param("schema", DATABASE_MODULES, id="graphql-adapters-import-no-database"),
    ],
)
def test_layering(folder: str, forbidden: tuple[str, ...]) -> None:
    files = list((API / folder).rglob("*.py"))
    assert len(files) > 1, f"api/{folder} has no modules: the rule would pass vacuously"
    found = violations(API / folder, forbidden)
    assert found == [], "layering broken:\n" + "\n".join(found)
