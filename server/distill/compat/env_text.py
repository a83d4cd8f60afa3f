"""What an Alembic project's env.py says of its version table, read as text.

``distill current`` and the language server (which runs no project code) need
the version table without running env.py, which imports the models.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, replace

from distill.config import Config
from distill.errors import ConfigError

ENV_PY = "env.py"


# configure() options that change where the version rows are kept.
_BOOKKEEPING = frozenset({"version_table", "version_table_schema"})


@dataclass(frozen=True)
class Bookkeeping:
    """What env.py's text says of the version table, read without running it."""

    # a configure() call passes version_table(_schema), or **options; or env.py
    # chooses the versions folders (context.script.version_locations)
    mentioned: bool
    literal: Mapping[str, str]  # the ones passed as plain strings


def bookkeeping_in_text(config: Config) -> Bookkeeping:
    """Read as text, so ``current`` and the language server (which runs no project
    code) know the version table without running env.py and importing the models."""
    env_py = config.script_location / ENV_PY
    try:
        source = env_py.read_bytes()
        tree = ast.parse(source, str(env_py))
    except (OSError, SyntaxError, ValueError):
        return Bookkeeping(env_py.exists(), {})  # running it will say what is wrong
    own_dicts = None if b"version_table" in source else _dicts_made_here(tree)
    mentioned = _chooses_versions_folders(tree)
    literal: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "configure":
            for keyword in node.keywords:
                if keyword.arg in _BOOKKEEPING or (
                    keyword.arg is None and not _made_here(keyword.value, own_dicts)
                ):
                    mentioned = True
                value = getattr(keyword.value, "value", None)  # an ast.Constant's
                if keyword.arg in _BOOKKEEPING and isinstance(value, str):
                    literal[keyword.arg] = value
    return Bookkeeping(mentioned, literal)


def chooses_versions_folders(config: Config) -> bool:
    """Whether env.py's text touches ``context.script.version_locations``: the
    revisions a command runs are known only once env.py has run."""
    try:
        tree = ast.parse((config.script_location / ENV_PY).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    return _chooses_versions_folders(tree)


def _chooses_versions_folders(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in ("version_locations", "_version_locations")
        and getattr(node.value, "attr", None) == "script"
        for node in ast.walk(tree)
    )


def _dicts_made_here(tree: ast.AST) -> frozenset[str] | None:
    """Names env.py assigns itself, when every dict it merges into options is its own too.

    ``configure(**options)`` with ``options`` built in this file from this file's
    names cannot pass a version table without the word appearing in the file
    (jupyterhub's env.py).  A dict from elsewhere (``opts.update(settings.X)``)
    could: then None, and ``**`` counts as naming the bookkeeping.
    """
    assigned: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            assigned.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "update"
            and not all(isinstance(a, ast.Name | ast.Dict) for a in node.args)
        ):
            return None
    return frozenset(assigned)


def _made_here(value: ast.expr, own_dicts: frozenset[str] | None) -> bool:
    return own_dicts is not None and isinstance(value, ast.Name) and value.id in own_dicts


def with_literal_bookkeeping(config: Config, read: Bookkeeping | None = None) -> Config:
    """An Alembic project's config with the version table env.py names in plain text
    (``read``: what ``bookkeeping_in_text`` already found)."""
    if config.flavour != "alembic":
        return config
    found = (read or bookkeeping_in_text(config)).literal
    return replace(
        config,
        version_table=found.get("version_table", config.version_table),
        version_table_schema=found.get("version_table_schema", config.version_table_schema),
    )


def require_env_py(config: Config) -> None:
    """Refuse, as Alembic does, a command that would run a missing env.py.

    Without it Distill would migrate with none of what env.py configures (its
    url, its version table) and could report "nothing to do" for a broken
    project.  A ``metadata`` key says Distill alone runs this project, without one.
    """
    env_py = config.script_location / ENV_PY
    if config.flavour != "alembic" or config.metadata or env_py.is_file():
        return
    problem = "is a folder, not a file" if env_py.exists() else "does not exist"
    raise ConfigError(
        f"{env_py} {problem}: an Alembic project runs it for this command, as "
        f"script_location in {config.source} says; restore env.py (alembic init writes one), "
        "or fix script_location"
    )
