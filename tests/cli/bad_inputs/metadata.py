"""The ``metadata`` setting naming models that cannot be loaded, for check and autogenerate."""

from __future__ import annotations

from tests.cli.bad_inputs.common import LINEAR, Case, append_settings, chain, models, write

SA = "import sqlalchemy as sa\n"

# (name, module text, setting, expected fragment)
BAD_MODELS = [
    ("module missing", None, "no_such_models:Base.metadata", "no module named 'no_such_models'"),
    ("package missing submodule", "", "mpkg.nosub:meta", "no module named 'mpkg.nosub'"),
    (
        "attribute missing",
        SA + "meta = sa.MetaData()\n",
        "mx:Base.metadata",
        "mx has no Base.metadata",
    ),
    (
        "attribute path stops early",
        SA + "class Base:\n    pass\n",
        "mx:Base.metadata",
        "stopped at 'metadata'",
    ),
    ("not a MetaData", SA + "meta = 5\n", "mx:meta", "is a int, not a SQLAlchemy MetaData"),
    ("a Table not a MetaData", SA + "t = sa.Table('t', sa.MetaData())\n", "mx:t", "is a Table"),
    (
        "the Base class itself",
        SA + "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "mx:Base",
        "not a SQLAlchemy MetaData",
    ),
    (
        "a function returning MetaData",
        SA + "def meta():\n    return sa.MetaData()\n",
        "mx:meta",
        "is a function",
    ),
    ("raises on import", SA + "\n1 / 0\n", "mx:meta", "mx.py:3: ZeroDivisionError"),
    ("syntax error", SA + "meta = sa.MetaData(\n", "mx:meta", "SyntaxError"),
    (
        "imports a missing package",
        "import no_such_dependency_q\n",
        "mx:meta",
        "no_such_dependency_q",
    ),
    (
        "attribute raises on access",
        SA + "def __getattr__(name):\n    raise RuntimeError('lazy models broke')\n",
        "mx:meta",
        "lazy models broke",
    ),
    (
        "property raises on access",
        SA
        + "class _B:\n    @property\n    def metadata(self):\n"
        + "        raise LookupError('no engine yet')\nBase = _B()\n",
        "mx:Base.metadata",
        "no engine yet",
    ),
    (
        "attribute raises AttributeError inside",
        SA
        + "class _B:\n    @property\n    def metadata(self):\n"
        + "        return self.missing_thing\nBase = _B()\n",
        "mx:Base.metadata",
        "missing_thing",
    ),
    (
        "duplicate table in models",
        SA
        + "meta = sa.MetaData()\nsa.Table('t', meta, sa.Column('a', sa.Integer))\n"
        + "sa.Table('t', meta, sa.Column('b', sa.Integer))\n",
        "mx:meta",
        "mx.py:4",
    ),
    (
        "invalid column type",
        SA + "meta = sa.MetaData()\nsa.Table('t', meta, sa.Column('a', 'INTEGER'))\n",
        "mx:meta",
        "mx.py:3",
    ),
]


def _case(command: tuple[str, ...], name: str, text: str | None, spec: str, expect: str) -> Case:
    steps = [append_settings(f'metadata = "{spec}"\n')]
    if text is not None:
        if spec.startswith("mpkg."):
            steps.append(write("mpkg/__init__.py", text))
        else:
            steps.append(write("mx.py", text))
    return Case(
        f"metadata {name} ({command[0]})",
        chain(LINEAR, *steps),
        command,
        expect,
        db_at="aaaa11110002",
    )


CASES = [
    *(_case(("check",), *row) for row in BAD_MODELS),
    *(
        _case(("revision", "--autogenerate", "-m", "x"), *row)
        for row in BAD_MODELS
        if row[0]
        in ("module missing", "not a MetaData", "raises on import", "attribute raises on access")
    ),
    Case(
        "autogenerate without metadata",
        LINEAR,
        ("revision", "--autogenerate", "-m", "x"),
        "no metadata setting",
    ),
    Case("check without metadata", LINEAR, ("check",), "no metadata setting"),
    Case(
        "models call sys.exit",
        chain(LINEAR, models("mx", SA + "import sys\nsys.exit(0)\n", "mx:meta")),
        ("check",),
        "sys.exit",
    ),
    Case(
        "rename without autogenerate",
        LINEAR,
        ("revision", "-m", "x", "--rename", "a:b"),
        "--rename goes with --autogenerate",
    ),
    Case(
        "rename of nothing",
        chain(LINEAR, models("mz", SA + "meta = sa.MetaData()\n", "mz:meta")),
        ("revision", "--autogenerate", "-m", "x", "--rename", "users.a:b"),
        "does not drop users.a and add users.b",
    ),
    Case(
        "rename without colon",
        chain(LINEAR, models("mz", SA + "meta = sa.MetaData()\n", "mz:meta")),
        ("revision", "--autogenerate", "-m", "x", "--rename", "users.a"),
        "users.a",
    ),
    Case(
        "bad include_object hook",
        chain(
            models("mw", SA + "meta = sa.MetaData()\n", "mw:meta"),
            append_settings('include_object = "nowhere:fn"\n'),
        ),
        ("check",),
        "include_object = 'nowhere:fn' cannot be loaded",
    ),
    Case(
        "include_object not callable",
        chain(
            models("mw", SA + "meta = sa.MetaData()\nfn = 3\n", "mw:meta"),
            append_settings('include_object = "mw:fn"\n'),
        ),
        ("check",),
        "include_object",
    ),
    Case(
        "include_object not a string",
        chain(
            models("mw", SA + "meta = sa.MetaData()\n", "mw:meta"),
            append_settings("include_object = 3\n"),
        ),
        ("check",),
        "include_object",
    ),
    Case(
        "include_object raises",
        chain(
            models(
                "mw",
                SA + "meta = sa.MetaData()\nsa.Table('t', meta, sa.Column('a', sa.Integer))"
                "\ndef fn(*a):\n    raise ValueError('hook broke')\n",
                "mw:meta",
            ),
            append_settings('include_object = "mw:fn"\n'),
        ),
        ("check",),
        "hook broke",
    ),
]
