"""Mistakes in Distill's own settings: distill.toml and [tool.distill] of pyproject.toml."""

from __future__ import annotations

from tests.cli.bad_inputs.common import (
    LINEAR,
    Case,
    Setup,
    append_settings,
    chain,
    nothing,
    settings,
    write,
)

BASE = 'script_location = "migrations"\nurl = "sqlite:///app.db"\n'

# A misspelt key is refused with the key it most likely meant.
TYPOS = [
    ("script_locaton", '"m"', "script_location"),
    ("urll", '"sqlite:///x.db"', "url"),
    ("metdata", '"m:meta"', "metadata"),
    ("version_tabel", '"v"', "version_table"),
    ("version_table_shema", '"s"', "version_table_schema"),
    ("history_tabel", '"h"', "history_table"),
    ("lock_timout", "10", "lock_timeout"),
    ("file_templat", '"%(rev)s"', "file_template"),
    ("version_location", '["v"]', "version_locations"),
    ("transaction_per_migrations", "true", "transaction_per_migration"),
    ("include_objects", '"m:f"', "include_object"),
    ("compare_types", "true", "compare_type"),
]

# A value of the wrong TOML type names the key and what it must be.
WRONG_TYPES = [
    ("script_location", "1", "'script_location' must be a folder path"),
    ("script_location", '["migrations"]', "'script_location' must be a folder path"),
    ("version_locations", '"versions"', "'version_locations' must be a list"),
    ("version_locations", "[1, 2]", "'version_locations' must list folder paths as strings"),
    ("url", "5", "'url' must be a database URL"),
    ("url", "{ host = 'x' }", "'url' must be a database URL"),
    ("metadata", "1", "'metadata' must be \"module:attribute\""),
    ("metadata", '["models:meta"]', "'metadata' must be \"module:attribute\""),
    ("version_table", "1", "'version_table' must be a table name"),
    ("version_table_schema", "true", "'version_table_schema' must be a schema name"),
    ("history_table", "3", "'history_table' must be a table name"),
    ("transaction_per_migration", '"yes"', "'transaction_per_migration' must be true or false"),
    ("transaction_per_migration", "1", "'transaction_per_migration' must be true or false"),
    ("file_template", "3", "'file_template' must be a file name template"),
    ("lock_timeout", '"soon"', "'lock_timeout' must be a number of seconds"),
    ("lock_timeout", "true", "'lock_timeout' must be a number of seconds"),
    ("lock_timeout", "[10]", "'lock_timeout' must be a number of seconds"),
]

# Values of the right type that cannot work, refused when read rather than failing later.
BAD_VALUES = [
    ("version_table empty", 'version_table = ""', "version_table", "'version_table' is empty"),
    ("version_table blank", 'version_table = "  "', "version_table", "'version_table' is empty"),
    ("history_table empty", 'history_table = ""', "history_table", "'history_table' is empty"),
    (
        "version_table_schema empty",
        'version_table_schema = ""',
        "version_table_schema",
        "'version_table_schema' is empty",
    ),
    (
        "version_table equals history_table",
        'version_table = "migrations_log"\nhistory_table = "migrations_log"',
        "version_table",
        "'version_table' and 'history_table' are both 'migrations_log'",
    ),
    (
        "history_table equals default version_table",
        'history_table = "distill_version"',
        "history_table",
        "'version_table' and 'history_table' are both 'distill_version'",
    ),
    ("file_template empty", 'file_template = ""', "file_template", "'file_template' is empty"),
    (
        "file_template unknown field",
        'file_template = "%(rev)s_%(title)s"',
        "file_template",
        "%(title)s",
    ),
    (
        "file_template dangling percent",
        'file_template = "%(rev)s_%"',
        "file_template",
        "file_template '%(rev)s_%' is not a valid %-template",
    ),
    ("lock_timeout negative", "lock_timeout = -1", "lock_timeout", "'lock_timeout' is -1"),
    ("lock_timeout negative float", "lock_timeout = -0.5", "lock_timeout", "is -0.5"),
    ("lock_timeout nan", "lock_timeout = nan", "lock_timeout", "'lock_timeout' is nan"),
    ("lock_timeout inf", "lock_timeout = -inf", "lock_timeout", "'lock_timeout' is -inf"),
    ("metadata without colon", 'metadata = "models.meta"', "metadata", 'expected "module:'),
    ("metadata without module", 'metadata = ":meta"', "metadata", 'expected "module:'),
    ("metadata without attribute", 'metadata = "models:"', "metadata", 'expected "module:'),
]

PYPROJECT_SECTION = [
    ("tool.distill is a string", '[tool]\ndistill = "migrations"\n', "[tool.distill]"),
    ("tool.distill is a list", "[tool]\ndistill = [1, 2]\n", "[tool.distill]"),
    ("tool.distill is a number", "[tool]\ndistill = 3\n", "[tool.distill]"),
    ("tool is a string", 'tool = "distill"\n', "[tool]"),
    ("tool.distill typo", '[tool.distill]\nscript_locatoin = "m"\n', "script_location"),
    ("tool.distill wrong type", "[tool.distill]\nurl = 5\n", "'url' must be a database URL"),
    ("tool.distill bad toml", "[tool.distill]\nurl = sqlite\n", "not valid TOML"),
    ("tool.distill empty version_table", '[tool.distill]\nversion_table = ""\n', "is empty"),
]


def _with(key: str, value: str) -> Setup:
    """distill.toml with ``key = value`` in place of the key's usual line."""
    kept = [line for line in BASE.splitlines() if not line.startswith(f"{key} =")]
    return settings("\n".join([*kept, f"{key} = {value}"]) + "\n")


def _section_case(name: str, text: str, expect: str) -> Case:
    def setup(p: object) -> None:
        from tests.projects import ProjectDir

        assert isinstance(p, ProjectDir)
        (p.root / "distill.toml").unlink()
        (p.root / "pyproject.toml").write_text(text)

    return Case(f"pyproject {name}", setup, ("heads",), expect)


CASES = [
    *(
        Case(
            f"typo {key}",
            append_settings(f"{key} = {value}\n"),
            ("heads",),
            f"did you mean '{meant}'",
        )
        for key, value, meant in TYPOS
    ),
    *(
        Case(f"wrong type {key} = {value}", _with(key, value), ("heads",), expect)
        for key, value, expect in WRONG_TYPES
    ),
    *(
        Case(name, settings(BASE + text + "\n"), ("upgrade", "head"), expect)
        for name, text, _key, expect in BAD_VALUES
    ),
    *(_section_case(name, text, expect) for name, text, expect in PYPROJECT_SECTION),
    Case("bad toml", settings("url = \n"), ("heads",), "not valid TOML"),
    Case("url empty", _with("url", '""'), ("current",), "no database URL"),
    Case(
        "duplicate key", settings(BASE + 'url = "sqlite:///b.db"\n'), ("heads",), "not valid TOML"
    ),
    Case(
        "distill.toml not UTF-8",
        write("distill.toml", b'script_location = "migr\xe9"\n'),
        ("heads",),
        "distill.toml: not UTF-8",
    ),
    Case(
        "distill.toml latin-1 comment",
        write("distill.toml", BASE.encode() + b"# caf\xe9\n"),
        ("heads",),
        "distill.toml: not UTF-8",
    ),
    Case(
        "pyproject not UTF-8",
        chain(
            lambda p: (p.root / "distill.toml").unlink(),
            write("pyproject.toml", b'[tool.distill]\nscript_location = "\xff"\n'),
        ),
        ("heads",),
        "pyproject.toml: not UTF-8",
    ),
    Case(
        "unrelated pyproject not UTF-8",
        write("pyproject.toml", b"[project]\nname = '\xfe'\n"),
        ("heads",),
        "pyproject.toml: not UTF-8",
    ),
    Case(
        "distill.toml tool.distill a string",
        settings('[tool]\ndistill = "x"\n'),
        ("heads",),
        "[tool.distill]",
    ),
    Case(
        "wrong type lists the key",
        settings(BASE + "[version_table]\nname = 'v'\n"),
        ("heads",),
        "'version_table' must be a table name",
    ),
    Case(
        "unset env in url",
        settings('url = "postgresql://u:${NO_SUCH_VAR_X}@h/d"\n'),
        ("current",),
        "NO_SUCH_VAR_X is not set",
    ),
    Case(
        "env in url is not a URL",
        settings('url = "${APP_DB}"\n'),
        ("current",),
        "url is not a database URL",
        env={"APP_DB": "s3cr3t-pw"},
    ),
    Case("missing -c file", nothing, ("-c", "nope.toml", "heads"), "does not exist"),
    Case("-c names a folder", nothing, ("-c", "migrations", "heads"), "migrations"),
    Case(
        "-c file not UTF-8",
        write("other.toml", b"url = '\xe9'\n"),
        ("-c", "other.toml", "heads"),
        "other.toml: not UTF-8",
    ),
    Case(
        "-c file bad toml",
        write("other.toml", "[[[\n"),
        ("-c", "other.toml", "heads"),
        "other.toml: not valid TOML",
    ),
    Case(
        "-c file with typo",
        write("other.toml", 'scrip_location = "migrations"\n'),
        ("-c", "other.toml", "heads"),
        "did you mean 'script_location'",
    ),
    Case(
        "pyproject without section",
        write("pyproject.toml", "[project]\nname='x'\n"),
        ("-c", "pyproject.toml", "heads"),
        "no [tool.distill] section",
    ),
    Case(
        "no url at all",
        settings('script_location = "migrations"\n'),
        ("current",),
        "no database URL: set url in",
    ),
    Case(
        "bad --url blames the flag",
        nothing,
        ("--url", "notaurl", "current"),
        "--url/DISTILL_URL: url is not a database URL",
    ),
    Case(
        "bad DISTILL_URL blames the variable",
        nothing,
        ("current",),
        "--url/DISTILL_URL: url is not a database URL",
        env={"DISTILL_URL": "s3cr3t-pw"},
    ),
    Case(
        "missing script folder",
        settings('script_location = "elsewhere"\n'),
        ("heads",),
        "elsewhere",
    ),
    Case(
        "script folder is a file",
        chain(settings('script_location = "notes.txt"\n'), write("notes.txt", "x")),
        ("heads",),
        "notes.txt",
    ),
    Case(
        "missing version location",
        append_settings('version_locations = ["nowhere"]\n'),
        ("history",),
        "nowhere",
    ),
    Case(
        "second version location missing",
        append_settings('version_locations = ["migrations/versions", "gone"]\n'),
        ("heads",),
        "gone",
    ),
    Case(
        "two config files",
        write("pyproject.toml", "[tool.distill]\n"),
        ("heads",),
        "keep one",
    ),
    Case("-C to missing dir", nothing, ("-C", "no/such/dir", "heads"), "no/such/dir"),
    Case("-C to a file", write("afile", ""), ("-C", "afile", "heads"), "afile"),
    Case(
        "lock_timeout negative on stamp",
        chain(LINEAR, append_settings("lock_timeout = -5\n")),
        ("stamp", "head"),
        "'lock_timeout' is -5",
    ),
]
