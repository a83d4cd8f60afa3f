"""The real projects the suite runs, read from their installed packages.

Nothing of a project is copied: each test project folder holds only an
``alembic.ini`` made the way the project makes its own, whose
``script_location`` is the package's migrations folder in site-packages (its
``env.py``, ``script.py.mako`` and ``versions/``).  One addition: a second,
empty version location inside the test folder, where ``revision
--autogenerate`` is told to write (``--version-path``), so no tool ever writes
into the installed package.
"""

from __future__ import annotations

import configparser
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

AUTOGEN_FOLDER = "autogen"


def package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None, f"{package} is not installed"
    return Path(spec.origin).parent


def _escape(value: str) -> str:
    return value.replace("%", "%%")


def _add_autogen_location(ini: Path, versions: Path) -> None:
    """List the package's versions folder and the test folder's own in version_locations."""
    text = ini.read_text()
    line = f"version_locations = {versions} {ini.parent / AUTOGEN_FOLDER}\n"
    assert text.count("[alembic]\n") == 1, f"{ini} has no single [alembic] section"
    ini.write_text(text.replace("[alembic]\n", f"[alembic]\n{line}", 1))
    (ini.parent / AUTOGEN_FOLDER).mkdir(exist_ok=True)


def write_optuna_ini(folder: Path, url: str) -> None:
    """optuna's ``RDBStorage._create_alembic_config``: the packaged alembic.ini with
    script_location and sqlalchemy.url set to the package folder and the storage URL."""
    rdb = package_folder("optuna") / "storages" / "_rdb"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(rdb / "alembic.ini")
    parser["alembic"]["script_location"] = _escape(str(rdb / "alembic"))
    parser["alembic"]["sqlalchemy.url"] = _escape(url)
    with (folder / "alembic.ini").open("w") as out:
        parser.write(out)
    _add_autogen_location(folder / "alembic.ini", rdb / "alembic" / "versions")


def write_jupyterhub_ini(folder: Path, url: str) -> None:
    """jupyterhub's own ``dbutil.write_alembic_ini`` (what ``jupyterhub upgrade-db`` uses)."""
    from jupyterhub import dbutil

    dbutil.write_alembic_ini(str(folder / "alembic.ini"), url)
    _add_autogen_location(folder / "alembic.ini", Path(dbutil.ALEMBIC_DIR) / "versions")


@dataclass(frozen=True)
class RealProject:
    name: str
    package: str
    migrations: Callable[[], Path]  # the package's script_location
    write_ini: Callable[[Path, str], None]
    metadata: str  # module:attribute of the models' MetaData
    # True: the history starts from tables the project makes with create_all (then
    # stamps head, as the project does for a new database); False: from empty.
    baseline: bool

    @property
    def revisions(self) -> list[str]:
        """Revision ids from base to head (each history is linear)."""
        return _revisions(self.migrations())


@cache
def _revisions(script_location: Path) -> list[str]:
    from alembic.script import ScriptDirectory

    return [r.revision for r in ScriptDirectory(str(script_location)).walk_revisions()][::-1]


PROJECTS = {
    "optuna": RealProject(
        name="optuna",
        package="optuna",
        migrations=lambda: package_folder("optuna") / "storages" / "_rdb" / "alembic",
        write_ini=write_optuna_ini,
        metadata="optuna.storages._rdb.models:BaseModel.metadata",
        baseline=False,
    ),
    "jupyterhub": RealProject(
        name="jupyterhub",
        package="jupyterhub",
        migrations=lambda: package_folder("jupyterhub") / "alembic",
        write_ini=write_jupyterhub_ini,
        metadata="jupyterhub.orm:Base.metadata",
        baseline=True,
    ),
}
