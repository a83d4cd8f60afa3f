"""Mistakes in an Alembic project's settings: alembic.ini and [tool.alembic]."""

from __future__ import annotations

import re

from tests.cli.bad_inputs.common import PASSWORD, Case, Setup, chain, revs, write
from tests.projects import ProjectDir


def ini_set(key: str, value: str) -> Setup:
    """Set (or add) ``key`` in the [alembic] section of alembic.ini."""

    def setup(p: ProjectDir) -> None:
        ini = p.root / "alembic.ini"
        text = ini.read_text()
        for line in (rf"(?m)^{re.escape(key)} =.*$", rf"(?m)^# ?{re.escape(key)} =.*$"):
            if re.search(line, text):
                text = re.sub(line, lambda _: f"{key} = {value}", text, count=1)
                break
        else:
            text = text.replace("[alembic]\n", f"[alembic]\n{key} = {value}\n", 1)
        ini.write_text(text)

    return setup


def ini_edit(old: str, new: str | bytes) -> Setup:
    def setup(p: ProjectDir) -> None:
        ini = p.root / "alembic.ini"
        replacement = new.encode() if isinstance(new, str) else new
        ini.write_bytes(ini.read_bytes().replace(old.encode(), replacement, 1))

    return setup


def ini_bytes(extra: bytes) -> Setup:
    def setup(p: ProjectDir) -> None:
        ini = p.root / "alembic.ini"
        ini.write_bytes(ini.read_bytes() + extra)

    return setup


def toml_only(text: str) -> Setup:
    """The project's settings in [tool.alembic] of pyproject.toml, no alembic.ini."""

    def setup(p: ProjectDir) -> None:
        (p.root / "alembic.ini").unlink()
        (p.root / "pyproject.toml").write_text(text)

    return setup


def _alembic(name: str, setup: Setup, args: tuple[str, ...], expect: str, **kw: object) -> Case:
    return Case(f"alembic {name}", setup, args, expect, flavour="alembic", **kw)  # type: ignore[arg-type]


BAD_PG = f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:1/db"
TOOL = '[tool.alembic]\nscript_location = "%(here)s/migrations"\n'

CASES = [
    _alembic("ini not UTF-8", ini_bytes(b"# caf\xe9\n"), ("heads",), "alembic.ini: not UTF-8"),
    _alembic(
        "ini value not UTF-8",
        ini_edit("prepend_sys_path = .", b"prepend_sys_path = \xff"),
        ("heads",),
        "alembic.ini: not UTF-8",
    ),
    _alembic(
        "no [alembic] section",
        ini_edit("[alembic]", "[alembik]"),
        ("heads",),
        "has no [alembic] section",
    ),
    _alembic(
        "no script_location",
        ini_edit("script_location = %(here)s/migrations", "# no script location"),
        ("heads",),
        "no script_location in [alembic]",
    ),
    _alembic(
        "empty script_location",
        ini_set("script_location", ""),
        ("heads",),
        "no script_location",
    ),
    _alembic(
        "script_location in a package that is not installed",
        ini_set("script_location", "no_such_app_pkg:migrations"),
        ("heads",),
        "names a folder in package 'no_such_app_pkg', which is not installed",
    ),
    _alembic(
        "missing script folder",
        ini_set("script_location", "%(here)s/elsewhere"),
        ("heads",),
        "elsewhere",
    ),
    _alembic(
        "line before any section",
        lambda p: (p.root / "alembic.ini").write_text(
            "script_location = x\n" + (p.root / "alembic.ini").read_text()
        ),
        ("heads",),
        "not a valid ini file",
    ),
    _alembic(
        "duplicate key",
        ini_edit("[alembic]\n", "[alembic]\nsqlalchemy.url = a\nsqlalchemy.url = b\n"),
        ("heads",),
        "not a valid ini file",
    ),
    _alembic(
        "duplicate section",
        ini_bytes(b"\n[alembic]\nscript_location = x\n"),
        ("heads",),
        "not a valid ini file",
    ),
    _alembic(
        "unknown interpolation",
        ini_set("version_locations", "%(root)s/versions"),
        ("heads",),
        "write a literal % as %%",
    ),
    _alembic(
        "bare percent",
        ini_set("file_template", "%(rev)s_100%"),
        ("heads",),
        "write a literal % as %%",
    ),
    _alembic(
        "unknown path_separator",
        ini_set("path_separator", "comma"),
        ("heads",),
        "path_separator = 'comma' is not a known separator",
    ),
    _alembic(
        "unknown path_separator with version_locations",
        chain(
            ini_set("path_separator", "pipe"),
            ini_set("version_locations", "%(here)s/migrations/versions"),
        ),
        ("heads",),
        "path_separator = 'pipe' is not a known separator",
    ),
    _alembic(
        "unknown version_path_separator",
        chain(
            ini_edit("path_separator = os", "# no path_separator"),
            ini_set("version_path_separator", "tab"),
        ),
        ("heads",),
        "version_path_separator = 'tab' is not a known separator",
    ),
    _alembic(
        "missing version location",
        ini_set("version_locations", "%(here)s/nowhere"),
        ("history",),
        "nowhere",
    ),
    _alembic(
        "empty file_template",
        ini_set("file_template", ""),
        ("revision", "-m", "x"),
        "file_template",
    ),
    _alembic(
        "url not a URL",
        ini_set("sqlalchemy.url", "nonsense"),
        ("current",),
        "not a database URL",
    ),
    _alembic(
        "url of unknown dialect",
        ini_set("sqlalchemy.url", f"nosuchdb://u:{PASSWORD}@h/d"),
        ("current",),
        "unknown database dialect",
    ),
    _alembic(
        "url unreachable with password",
        ini_set("sqlalchemy.url", BAD_PG),
        ("current",),
        "cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/db",
    ),
    _alembic(
        "placeholder url left in",
        ini_set("sqlalchemy.url", "driver://user:pass@localhost/dbname"),
        ("current",),
        "driver",
    ),
    _alembic(
        "upgrade with unknown revision",
        revs(("dddd11110001", None)),
        ("upgrade", "eeee"),
        "eeee",
    ),
    _alembic(
        "database at unknown revision",
        revs(("dddd11110001", None)),
        ("upgrade", "head"),
        "ffff00000000",
        db_at="ffff00000000",
    ),
    _alembic(
        "pyproject tool.alembic not UTF-8",
        chain(
            toml_only(TOOL),
            lambda p: (p.root / "pyproject.toml").write_bytes(TOOL.encode() + b"# \xe9\n"),
        ),
        ("heads",),
        "pyproject.toml: not UTF-8",
    ),
    _alembic(
        "pyproject not UTF-8 next to alembic.ini",
        write("pyproject.toml", b"[project]\nname = '\xe9'\n"),
        ("heads",),
        "pyproject.toml: not UTF-8",
    ),
    _alembic(
        "tool.alembic not a table",
        toml_only('[tool]\nalembic = "migrations"\n'),
        ("heads",),
        "[tool.alembic]",
    ),
    _alembic(
        "tool.alembic script_location not a string",
        toml_only("[tool.alembic]\nscript_location = 5\n"),
        ("heads",),
        "script_location",
    ),
    _alembic(
        "tool.alembic version_locations not a list",
        toml_only(TOOL + 'version_locations = "%(here)s/v"\n'),
        ("heads",),
        "version_locations must be a list",
    ),
    _alembic(
        "tool.alembic bad interpolation",
        toml_only('[tool.alembic]\nscript_location = "%(root)s/migrations"\n'),
        ("heads",),
        "only %(here)s may be substituted",
    ),
    _alembic(
        "tool.alembic no script_location",
        toml_only("[tool.alembic]\nprepend_sys_path = ['.']\n"),
        ("heads",),
        "no script_location",
    ),
    _alembic(
        "tool.alembic file_template not a string",
        toml_only(TOOL + "file_template = 5\n"),
        ("revision", "-m", "x"),
        "file_template",
    ),
    _alembic(
        "tool.alembic empty file_template",
        toml_only(TOOL + 'file_template = ""\n'),
        ("revision", "-m", "x"),
        "file_template",
    ),
    _alembic(
        "tool.alembic bad toml",
        toml_only(TOOL + "version_locations = [\n"),
        ("heads",),
        "not valid TOML",
    ),
]
