"""Commands that write files: ``init``, ``revision`` and ``merge``.

Nothing is half-written: every check runs before the first write, revision
files appear atomically (written aside, then renamed), and ``init`` removes
what it created if writing the settings fails.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from distill.config import DISTILL_TOML, PYPROJECT, find_config_file
from distill.errors import ConfigError, RevisionError, ScriptError
from distill.file_template import revision_filename
from distill.files import write_atomically
from distill.scripts.graph import RevisionGraph
from distill.scripts.header import MAX_REVISION_LENGTH
from distill.scripts.resolve import resolve
from distill.scripts.script import Revision
from distill.scripts.writing import NewFile, RevisionTemplate, new_revision_id

_REV_ID = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_RESERVED_IDS = ("head", "heads", "base", "current")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def default_template() -> str:
    return resources.files("distill").joinpath("templates/script.py.tmpl").read_text("utf-8")


# -- init ------------------------------------------------------------------------


@dataclass(frozen=True)
class InitResult:
    directory: Path
    config_file: Path
    created_config_file: bool
    # the settings already named this folder: they were left as they are
    kept_settings: bool = False


def init(directory: Path, cwd: Path, url: str | None = None) -> InitResult:
    """Create the migrations folder and add Distill settings next to it.

    Settings that already name this folder as their ``script_location`` are
    kept, as ``alembic init`` keeps an existing alembic.ini: a team that
    commits its settings first (or clones a project without its folder) can
    still create the folder.
    """
    target = (cwd / directory).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} already exists and is not empty; choose another folder")
    existing = find_config_file(cwd)
    kept = existing is not None and existing[0].parent == cwd
    if kept:
        assert existing is not None
        _refuse_conflicting_settings(existing[0], existing[1], target, cwd, url)
    try:
        location = target.relative_to(cwd).as_posix()
    except ValueError:
        location = target.as_posix()
    section = _settings_text(location, url)
    pyproject = cwd / PYPROJECT
    config_file = existing[0] if kept and existing else pyproject
    if not kept and not pyproject.is_file():
        config_file = cwd / DISTILL_TOML
    created_folder = not target.exists()
    try:
        (target / "versions").mkdir(parents=True, exist_ok=True)
        (target / "versions" / ".gitkeep").write_text("", "utf-8")
        (target / "script.py.tmpl").write_text(default_template(), "utf-8")
        if kept:
            pass
        elif config_file == pyproject:
            original = pyproject.read_text("utf-8")
            glue = (
                "" if original.endswith("\n\n") else ("\n" if original.endswith("\n") else "\n\n")
            )
            write_atomically(pyproject, original + glue + section)
        else:
            write_atomically(config_file, section)
    except OSError as error:
        if created_folder:
            shutil.rmtree(target, ignore_errors=True)
        raise ConfigError(f"cannot write {error.filename}: {error.strerror}") from None
    return InitResult(target, config_file, not kept and config_file != pyproject, kept)


def _refuse_conflicting_settings(
    file: Path, settings: object, target: Path, cwd: Path, url: str | None
) -> None:
    """Existing settings are kept only when they already say what init would write."""
    section = settings if isinstance(settings, dict) else {}
    # Without the key the scripts live in "migrations", as Config reads it.
    named = section.get("script_location", "migrations")
    if not isinstance(named, str):
        raise ConfigError(f"{file}: 'script_location' must be a folder path, not {named!r}")
    if (cwd / named).resolve() != target:
        raise ConfigError(
            f"{file} already names script_location = {named!r}, not {target}; "
            f"run 'distill init {named}', or change the setting first"
        )
    if url is not None and section.get("url") not in (None, url):
        raise ConfigError(
            f"{file} already names another url; leave out --url, or change the setting first"
        )


def _settings_text(location: str, url: str | None) -> str:
    url_line = (
        f'url = "{url}"'
        if url
        else '# url = "postgresql+psycopg://user@localhost/dbname"  # or DISTILL_URL, or --url'
    )
    return (
        "[tool.distill]\n"
        f'script_location = "{location}"\n'
        f"{url_line}\n"
        '# metadata = "app.models:Base.metadata"  # your SQLAlchemy MetaData, for autogenerate\n'
    )


# -- revision ----------------------------------------------------------------------


@dataclass(frozen=True)
class NewRevision:
    message: str
    rev_id: str | None = None
    head: str = "head"
    splice: bool = False
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    version_path: Path | None = None
    upgrades: str = ""  # empty: the template's placeholder
    downgrades: str = ""
    imports: str = ""


def revision(
    graph: RevisionGraph,
    version_locations: Sequence[Path],
    template: RevisionTemplate,
    file_template: str,
    spec: NewRevision,
) -> Path:
    """Write a new revision file on top of ``spec.head`` and return its path."""
    parents = _parents(graph, spec.head, spec.splice)
    return _write_revision(graph, version_locations, template, file_template, spec, parents)


def merge(
    graph: RevisionGraph,
    version_locations: Sequence[Path],
    template: RevisionTemplate,
    file_template: str,
    revisions: Sequence[str],
    spec: NewRevision,
) -> Path:
    """Write a revision whose parents are ``revisions`` (``heads`` for all heads)."""
    parents: list[str] = []
    for identifier in revisions:
        parents += [p for p in resolve(graph, identifier) if p not in parents]
    if len(parents) < 2:
        raise RevisionError(
            f"nothing to merge: {', '.join(revisions)} resolve(s) to "
            f"{', '.join(parents) or 'no revision'}; a merge needs two or more revisions"
        )
    return _write_revision(graph, version_locations, template, file_template, spec, tuple(parents))


def _parents(graph: RevisionGraph, head: str, splice: bool) -> tuple[str, ...]:
    if head == "base":
        return ()
    if head == "head" and not graph.revisions:
        return ()
    parents = resolve(graph, head)
    not_heads = [p for p in parents if p not in graph.heads]
    if not_heads and not splice:
        raise RevisionError(
            f"revision {', '.join(not_heads)} is not a head; a new revision on top of it starts "
            "a new branch: pass --splice to do that on purpose"
        )
    return parents


def _write_revision(
    graph: RevisionGraph,
    version_locations: Sequence[Path],
    template: RevisionTemplate,
    file_template: str,
    spec: NewRevision,
    parents: tuple[str, ...],
) -> Path:
    rev_id = new_revision_id() if spec.rev_id is None else spec.rev_id
    _check_new_ids(graph, rev_id, spec.branch_labels)
    depends = tuple(graph.get(d).id for d in spec.depends_on)
    folder = _folder_for(graph, version_locations, parents, spec.version_path)
    now = datetime.now()
    path = folder / revision_filename(file_template, rev_id, spec.message, now)
    if path.exists():
        raise ScriptError(f"{path} already exists; choose another --rev-id or message")
    text = template.render(
        NewFile(
            message=spec.message,
            revision=rev_id,
            parents=parents,
            branch_labels=spec.branch_labels,
            depends_on=depends,
            created=now,
            imports=spec.imports,
            upgrades=spec.upgrades,
            downgrades=spec.downgrades,
        )
    )
    new = Revision(
        id=rev_id,
        down_revisions=parents,
        branch_labels=spec.branch_labels,
        depends_on=depends,
        file=str(path),
        message=spec.message,
        create_date=None,
    )
    RevisionGraph([*graph.revisions.values(), new])  # refuses what would break the graph
    write_atomically(path, text)
    return path


def _check_new_ids(graph: RevisionGraph, rev_id: str, labels: Sequence[str]) -> None:
    if len(rev_id) > MAX_REVISION_LENGTH:
        raise RevisionError(
            f"--rev-id {rev_id!r} is {len(rev_id)} characters; the version table holds at most "
            f"{MAX_REVISION_LENGTH} (version_num VARCHAR(32)), so choose a shorter id"
        )
    if not _REV_ID.match(rev_id):
        raise RevisionError(f"revision id {rev_id!r} must be 1-32 letters, digits or underscores")
    if rev_id in _RESERVED_IDS:
        raise RevisionError(
            f"revision id {rev_id!r} is a word every command reads as a target "
            f"({', '.join(_RESERVED_IDS)}); choose another --rev-id"
        )
    if rev_id in graph.revisions:
        raise RevisionError(
            f"revision id {rev_id} is already used by {graph.revisions[rev_id].path}"
        )
    for label in labels:
        if not _LABEL.match(label):
            raise RevisionError(f"branch label {label!r} must be a name (letters, digits, _ -)")
        for existing in graph.revisions.values():
            if label in existing.branch_labels:
                raise RevisionError(f"branch label {label!r} is already used by {existing.path}")


def _folder_for(
    graph: RevisionGraph,
    locations: Sequence[Path],
    parents: tuple[str, ...],
    version_path: Path | None,
) -> Path:
    if version_path is not None:
        wanted = version_path.resolve()
        if wanted not in [loc.resolve() for loc in locations]:
            listed = ", ".join(str(loc) for loc in locations)
            raise ConfigError(
                f"--version-path {version_path} is not one of version_locations ({listed})"
            )
        return wanted
    if parents:  # keep a branch in the folder where it already lives
        return graph.revisions[parents[0]].path.parent
    folder = locations[0]
    if not folder.is_dir():
        raise ConfigError(f"{folder} does not exist; run 'distill init' or create it")
    return folder
