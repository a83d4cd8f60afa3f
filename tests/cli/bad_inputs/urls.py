"""Database URLs that cannot work: each carries a password that must never be printed."""

from __future__ import annotations

from tests.cli.bad_inputs.common import (
    LINEAR,
    PASSWORD,
    Case,
    append_settings,
    chain,
    nothing,
    revision,
    settings,
    write,
)

PW = PASSWORD
PG = f"postgresql+psycopg://app:{PW}@127.0.0.1"

# (name, url, expected fragment): given with --url to `current`.
BAD_URLS = [
    ("unknown dialect", f"nosuchdb://u:{PW}@h/d", "unknown database dialect"),
    ("unknown driver", f"postgresql+nosuchdriver://u:{PW}@h/d", "nosuchdriver"),
    ("driver not installed", f"postgresql+pg8000://u:{PW}@127.0.0.1/d", "pg8000"),
    ("mysql driver not installed", f"mysql+mysqldb://u:{PW}@127.0.0.1/d", "mysqldb"),
    ("async driver for sync use", f"sqlite+nosuch://u:{PW}@/x.db", "nosuch"),
    ("port not a number", f"postgresql://u:{PW}@h:notaport/db", "valid database URL"),
    ("port out of range", f"{PG}:99999/db", "cannot connect to postgresql+psycopg://app:***@"),
    (
        "unreachable port",
        f"{PG}:1/db",
        "cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/db",
    ),
    (
        "unresolvable host",
        f"postgresql+psycopg://app:{PW}@no-such-host.invalid/db",
        "cannot connect",
    ),
    (
        "mysql unreachable",
        f"mysql+pymysql://app:{PW}@127.0.0.1:1/db",
        "cannot connect to mysql+pymysql://app:***@",
    ),
    ("at sign in password", f"postgresql+psycopg://app:{PW}@x@127.0.0.1:1/db", "cannot connect"),
    ("scheme typo", f"postgres+psycopg://app:{PW}@127.0.0.1/db", "postgres"),
    ("missing scheme slashes", f"postgresql:app:{PW}@127.0.0.1/db", "not a database URL"),
    ("sqlite file is a folder", "sqlite:///migrations", "cannot connect"),
    ("unknown connect option", f"{PG}:1/db?nosuchoption=1", "cannot connect"),
    (
        "mariadb wrong password",
        f"mysql+pymysql://nosuchuser:{PW}@127.0.0.1:3306/test",
        "cannot connect to mysql+pymysql://nosuchuser:***@",
    ),
    (
        "mariadb missing database",
        "mysql+pymysql://root@127.0.0.1:3306/no_such_db_x",
        "no_such_db_x",
    ),
    (
        "postgresql missing database",
        f"postgresql+psycopg://postgres:{PW}@127.0.0.1:5432/no_such_db_x",
        "no_such_db_x",
    ),
    (
        "postgresql unknown user",
        f"postgresql+psycopg://nosuchrole:{PW}@127.0.0.1:5432/postgres",
        "nosuchrole",
    ),
]

CASES = [
    *(
        Case(f"url {name}", nothing, ("--url", url, "current"), expect)
        for name, url, expect in BAD_URLS
    ),
    Case(
        "url unreachable in settings",
        settings(f'url = "{PG}:1/db"\n'),
        ("current",),
        "cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/db",
    ),
    Case(
        "url unreachable on upgrade",
        LINEAR,
        ("--url", f"{PG}:1/db", "upgrade", "head"),
        "cannot connect",
    ),
    Case(
        "url unreachable on stamp",
        LINEAR,
        ("--url", f"{PG}:1/db", "stamp", "head"),
        "cannot connect",
    ),
    Case(
        "url unreachable on downgrade",
        LINEAR,
        ("--url", f"{PG}:1/db", "downgrade", "base"),
        "cannot connect",
    ),
    Case(
        "url sqlite in missing folder",
        LINEAR,
        ("--url", "sqlite:////no/such/folder/x.db", "upgrade", "head"),
        "cannot connect",
    ),
    Case(
        "url unreachable from DISTILL_URL",
        nothing,
        ("current",),
        "cannot connect to postgresql+psycopg://app:***@",
        env={"DISTILL_URL": f"{PG}:1/db"},
    ),
    Case(
        "url password from an env variable",
        settings(
            'script_location = "migrations"\nurl = "postgresql+psycopg://app:${DB_PW}@127.0.0.1:1/db"\n'
        ),
        ("current",),
        "cannot connect to postgresql+psycopg://app:***@",
        env={"DB_PW": PW},
    ),
    Case(
        "url of unknown dialect offline",
        LINEAR,
        ("--url", f"nosuchdb://u:{PW}@h/d", "upgrade", "--sql", "head"),
        "unknown database dialect",
    ),
    Case(
        "sqlite file not a database",
        write("junk.db", b"this is not a database file at all" * 40),
        ("--url", "sqlite:///junk.db", "current"),
        "file is not a database",
    ),
    Case(
        "sqlite version_table_schema unknown",
        chain(LINEAR, append_settings('version_table_schema = "nosuch"\n')),
        ("upgrade", "head"),
        "nosuch",
    ),
    Case(
        "postgresql version_table_schema unknown",
        chain(LINEAR, append_settings('version_table_schema = "nosuch_schema"\n')),
        ("upgrade", "head"),
        "nosuch_schema",
        server="postgresql",
    ),
    Case(
        "postgresql revision id too long for the version table",
        write(
            "migrations/versions/long.py",
            '"""m"""\nrevision = "'
            + "p" * 33
            + '"\ndown_revision = None\n\ndef upgrade():\n    pass\n',
        ),
        ("upgrade", "head"),
        "long.py",
        server="postgresql",
    ),
    Case(
        "postgresql stamp of unknown revision",
        LINEAR,
        ("stamp", "abcdef999"),
        "abcdef999",
        server="postgresql",
        db_at="aaaa11110001",
    ),
    Case(
        "postgresql failing revision rolled back",
        chain(
            LINEAR,
            revision(
                "pgf1",
                "aaaa11110002",
                'op.execute("CREATE TABLE pg_made (id int)")\nop.execute("SELECT no_such_fn()")',
            ),
        ),
        ("upgrade", "head"),
        "no_such_fn",
        server="postgresql",
        db_at="aaaa11110002",
    ),
    Case(
        "postgresql lock_timeout negative",
        chain(LINEAR, append_settings("lock_timeout = -1\n")),
        ("upgrade", "head"),
        "'lock_timeout' is -1",
        server="postgresql",
    ),
    Case(
        "mariadb failing revision",
        chain(
            LINEAR,
            revision("myf1", "aaaa11110002", 'op.execute("SELECT * FROM no_such_table_my")'),
        ),
        ("upgrade", "head"),
        "no_such_table_my",
        server="mariadb",
        db_at="aaaa11110002",
    ),
    Case(
        "mariadb unknown revision in database",
        LINEAR,
        ("current",),
        "dead00000000",
        server="mariadb",
        db_at="dead00000000",
    ),
]
