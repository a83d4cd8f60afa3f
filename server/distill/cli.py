"""The ``distill`` command line: parse, call ``commands``, print.

Exit codes: 0 success, 1 a user error (one line ``distill: error: ...``),
2 a usage error (argparse's own message).  A bug keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from distill.errors import DistillError
from distill.masking import mask_text
from distill.release import VERSION as __version__


def main(argv: Sequence[str] | None = None) -> int:
    given = _join_negative_ranges(sys.argv[1:] if argv is None else argv)
    parser = build_parser(given)
    args = parser.parse_args(given)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.chdir:
            _change_directory(args.chdir)
        return int(args.handler(args) or 0)
    except DistillError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)
    except SystemExit as exiting:
        # Distill never exits from inside a command: this is the project's code (a
        # hook, a model's method) and would end distill with its code, 0 too, unsaid.
        from distill.user_code import at, exit_call, user_frame

        where = user_frame(exiting)
        if where is None:
            raise
        return _fail(
            f"the project's code {exit_call(exiting)}{at(where)}; distill stopped there, "
            "before the command was finished"
        )
    except BrokenPipeError:
        # The reader went away (``distill history | head``): stop quietly, as
        # other command-line tools do, without a traceback at interpreter exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:
        if _is_database_error(error):
            return _fail(f"the database refused: {_first_line(error)}")
        raise


def _join_negative_ranges(argv: Sequence[str]) -> list[str]:
    """``-r -3:`` as ``-r=-3:``: argparse would take ``-3:`` for an option."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] in ("-r", "--rev-range") and arg.startswith("-"):
            joined[-1] = f"{joined[-1]}={arg}"
        else:
            joined.append(arg)
    return joined


def _fail(message: str, code: int = 1) -> int:
    one_line = " ".join(mask_text(message).split())
    print(f"distill: error: {one_line}", file=sys.stderr)
    return code


def _is_database_error(error: Exception) -> bool:
    # Imported only when it matters, so fast commands never load SQLAlchemy.
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy import exc

    return isinstance(error, exc.DBAPIError)


def _first_line(error: Exception) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _change_directory(directory: str) -> None:
    try:
        os.chdir(directory)
    except OSError as error:
        raise DistillError(f"-C {directory}: {error.strerror}") from None


# -- parser ----------------------------------------------------------------------


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the arguments it will parse, only the commands named in them
    get their options (a command not named there cannot be the one chosen, and building
    every command's options is a tenth of a quick command's time), unless help is asked."""
    parser = argparse.ArgumentParser(
        prog="distill",
        description="Schema migrations for SQLAlchemy.",
        epilog="Run 'distill COMMAND -h' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"distill {__version__}")
    _add_global_options(parser, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, defaults=False)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    from distill import cli_commands as handlers

    named = None if argv is None or {"-h", "--help"} & set(argv) else set(argv)
    for name, help_text, add_arguments, handler in handlers.COMMANDS:
        if named is not None and name not in named:
            sub.add_parser(name, help=help_text)  # listed, never chosen: no options needed
            continue
        command = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        add_arguments(command)
        command.set_defaults(handler=handler, command_name=name)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Global options are accepted before and after the command name; on the
    # sub-commands they default to SUPPRESS so they never undo a value given first.
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=default(None),
        help="settings file (pyproject.toml or distill.toml)",
    )
    group.add_argument(
        "-C", dest="chdir", metavar="DIR", default=default(None), help="run as if started in DIR"
    )
    group.add_argument(
        "--url", default=default(None), help="database URL (overrides the settings and DISTILL_URL)"
    )
    group.add_argument(
        "-x",
        action="append",
        metavar="KEY=VALUE",
        default=default(None),
        help="argument for env.py and revision scripts (context.get_x_argument()); repeatable",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=default(None),
        help="how long importing the models (and env.py) may take before Distill stops it "
        "(overrides the timeout setting; default 60; 0: no limit)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="print only results and errors",
    )


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):  # NaN fails both comparisons
        raise argparse.ArgumentTypeError(f"expected a number of seconds, 0 or more, not {text!r}")
    return seconds


# -- output helpers shared by the command handlers ---------------------------------


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
