"""Misuse of the command line: unknown revisions, bad ranges, conflicting flags, bad -x."""

from __future__ import annotations

from tests.cli.bad_inputs.common import (
    EMPTY_MODELS,
    FORK,
    LINEAR,
    SAMEPREFIX,
    Case,
    chain,
    header,
    nothing,
    revision,
    version_file,
)

A1, A2 = "aaaa11110001", "aaaa11110002"
LABELLED = chain(
    revision("shop0001", None, branch_labels=["shop"]), revision("shop0002", "shop0001")
)

# (command words, expected fragment): each names a revision that does not exist.
UNKNOWN_TARGETS = [
    (("upgrade", "ffffffffffff"), "ffffffffffff"),
    (("downgrade", "ffffffffffff"), "ffffffffffff"),
    (("stamp", "ffffffffffff"), "ffffffffffff"),
    (("show", "zzzz"), "zzzz"),
    (("history", "-r", "nope:head"), "nope"),
    (("history", "-r", "base:nope"), "nope"),
    (("revision", "-m", "x", "--head", "nope1234"), "nope1234"),
    (("revision", "-m", "x", "--depends-on", "qqqq9999"), "qqqq9999"),
    (("merge", A2, "nope5678", "-m", "m"), "nope5678"),
    (("upgrade", "--sql", "nope0000:head"), "nope0000"),
    (("upgrade", "--sql", f"{A1}:nope0001"), "nope0001"),
    (("downgrade", "--sql", f"nope0002:{A1}"), "nope0002"),
    (("upgrade", "nolabel@head"), "nolabel"),
    (("upgrade", "ffff@head"), "ffff"),
    (("upgrade", "aaaa1111000"), "aaaa1111000"),  # prefix of both: ambiguous
]

CASES = [
    *(
        Case(f"unknown target {' '.join(words)}", LINEAR, words, expect, db_at=A1)
        for words, expect in UNKNOWN_TARGETS
    ),
    Case("ambiguous prefix", SAMEPREFIX, ("show", "cccc"), "cccc11110001"),
    Case("ambiguous prefix on upgrade", SAMEPREFIX, ("upgrade", "cccc"), "cccc22220002"),
    Case("several heads for head", FORK, ("upgrade", "head"), "merge"),
    Case("several heads for revision", FORK, ("revision", "-m", "x"), "merge"),
    Case("several heads for show head", FORK, ("show", "head"), "head"),
    Case("downgrade below base", LINEAR, ("downgrade", "-5"), "-5", db_at=A2),
    Case("downgrade from base", LINEAR, ("downgrade", "-1"), "-1"),
    Case("relative beyond head", LINEAR, ("upgrade", "+7"), "+7"),
    Case("relative beyond head from current", LINEAR, ("upgrade", "+2"), "+2", db_at=A1),
    Case("downgrade to a later revision", LINEAR, ("downgrade", A2), A2, db_at=A1),
    Case("upgrade with plus sign on downgrade", LINEAR, ("downgrade", "+1"), "+1", db_at=A1),
    Case("bad relative syntax", LINEAR, ("upgrade", f"{A1}+x"), f"{A1}+x"),
    Case("relative of unknown", LINEAR, ("upgrade", "nope+1"), "nope"),
    Case("label relative beyond", LABELLED, ("upgrade", "shop@+5"), "shop@+5"),
    Case("label of unknown branch relative", LABELLED, ("upgrade", "cart@+1"), "cart"),
    Case(
        "history range with three parts",
        LINEAR,
        ("history", "-r", f"base:{A1}:head"),
        f"'{A1}:head'",
    ),
    Case("history reversed range", LINEAR, ("history", "-r", f"{A2}:{A1}"), A1),
    Case("downgrade sql without range", LINEAR, ("downgrade", "--sql", "base"), "FROM:TO"),
    Case("stamp a step", LINEAR, ("stamp", "+1"), "stamp '+1': stamp records the revision"),
    Case("stamp current", LINEAR, ("stamp", "current"), "takes no steps"),
    Case("stamp a step from head", LINEAR, ("stamp", "head-1"), "takes no steps"),
    Case(
        "reversed upgrade --sql range",
        LINEAR,
        ("upgrade", "--sql", f"{A2}:{A1}"),
        A2,
    ),
    Case(
        "stamp --sql without url",
        chain(
            LINEAR,
            lambda p: (p.root / "distill.toml").write_text('script_location = "migrations"\n'),
        ),
        ("stamp", "--sql", "head"),
        "no database URL",
    ),
    Case(
        "upgrade --sql without url",
        chain(
            LINEAR,
            lambda p: (p.root / "distill.toml").write_text('script_location = "migrations"\n'),
        ),
        ("upgrade", "--sql", "head"),
        "no database URL",
    ),
    # -- revision and merge options
    Case("rev-id taken", LINEAR, ("revision", "-m", "x", "--rev-id", A1), "already used"),
    Case(
        "rev-id invalid",
        LINEAR,
        ("revision", "-m", "x", "--rev-id", "no spaces!"),
        "letters, digits or underscores",
    ),
    Case(
        "rev-id with a dash",
        LINEAR,
        ("revision", "-m", "x", "--rev-id", "v1-2"),
        "letters, digits or underscores",
    ),
    Case(
        "rev-id of 33 characters",
        LINEAR,
        ("revision", "-m", "x", "--rev-id", "r" * 33),
        "33 characters",
    ),
    Case(
        "rev-id a git sha",
        LINEAR,
        ("revision", "-m", "x", "--rev-id", "0123456789abcdef0123456789abcdef01234567"),
        "40 characters",
    ),
    Case(
        "rev-id empty",
        LINEAR,
        ("revision", "-m", "x", "--rev-id", ""),
        "revision id '' must be 1-32",
    ),
    Case("rev-id head", LINEAR, ("revision", "-m", "x", "--rev-id", "head"), "head"),
    Case("rev-id base", LINEAR, ("revision", "-m", "x", "--rev-id", "base"), "base"),
    Case(
        "merge rev-id too long",
        FORK,
        ("merge", "heads", "-m", "m", "--rev-id", "m" * 40),
        "40 characters",
    ),
    Case(
        "merge rev-id taken",
        FORK,
        ("merge", "heads", "-m", "m", "--rev-id", "bbbb11110001"),
        "already used",
    ),
    Case("head not a head", LINEAR, ("revision", "-m", "x", "--head", A1), "--splice"),
    Case(
        "label taken",
        version_file("l3.py", header("lab00003", "None", 'branch_labels = ("shop",)\n')),
        ("revision", "-m", "x", "--head", "base", "--branch-label", "shop"),
        "already used",
    ),
    Case(
        "label with a space",
        LINEAR,
        ("revision", "-m", "x", "--branch-label", "my shop"),
        "my shop",
    ),
    Case(
        "label with an at sign",
        LINEAR,
        ("revision", "-m", "x", "--branch-label", "shop@2"),
        "shop@2",
    ),
    Case(
        "label equal to a revision id",
        LINEAR,
        ("revision", "-m", "x", "--head", "base", "--branch-label", A1),
        A1,
    ),
    Case(
        "label head",
        LINEAR,
        ("revision", "-m", "x", "--head", "base", "--branch-label", "head"),
        "head",
    ),
    Case(
        "version path not configured",
        LINEAR,
        ("revision", "-m", "x", "--version-path", "somewhere"),
        "version_locations",
    ),
    Case("merge with one head", LINEAR, ("merge", "heads", "-m", "m"), "nothing to merge"),
    Case("merge of one revision", FORK, ("merge", "bbbb11110002", "-m", "m"), "bbbb11110002"),
    Case(
        "merge of a revision with itself",
        FORK,
        ("merge", "bbbb11110002", "bbbb11110002", "-m", "m"),
        "bbbb11110002",
    ),
    Case(
        "rename without autogenerate in merge",
        FORK,
        ("merge", "heads", "-m", "m", "--branch-label", "a b"),
        "a b",
    ),
    # -- the database's own state
    Case(
        "unknown revision in database", LINEAR, ("current",), "dead00000001", db_at="dead00000001"
    ),
    Case(
        "unknown revision in database on upgrade",
        LINEAR,
        ("upgrade", "head"),
        "dead00000002",
        db_at="dead00000002",
    ),
    Case(
        "unknown revision in database on downgrade",
        LINEAR,
        ("downgrade", "base"),
        "dead00000003",
        db_at="dead00000003",
    ),
    Case(
        "unknown revision in database on check",
        chain(LINEAR, EMPTY_MODELS),
        ("check",),
        "dead00000005",
        db_at="dead00000005",
    ),
    Case(
        "database table at missing file",
        chain(LINEAR, lambda p: next(p.versions.glob(f"{A2}_*.py")).unlink()),
        ("current",),
        A2,
        db_at=A2,
    ),
    # -- -x arguments
    Case(
        "-x key missing in revision",
        chain(
            LINEAR,
            revision(
                "x0000002",
                A2,
                'from alembic import context; context.get_x_argument(as_dictionary=True)["tenant"]',
            ),
        ),
        ("-x", "region=eu", "upgrade", "head"),
        "tenant",
        db_at=A2,
    ),
    # -- init and other commands
    Case("init into non-empty folder", nothing, ("init", "migrations"), "not empty"),
    Case(
        "init onto a file", lambda p: (p.root / "afile").write_text("x"), ("init", "afile"), "afile"
    ),
    Case("init where settings exist", nothing, ("init", "fresh"), "distill.toml"),
    Case(
        "stamp unknown with purge", LINEAR, ("stamp", "--purge", "ffff9999"), "ffff9999", db_at=A1
    ),
    Case("check json without metadata", LINEAR, ("check", "--format", "json"), "metadata"),
]
