"""The project of the working folder, as the CLI's global options name it.

A leaf of the CLI: ``cli_commands`` and ``cli_safety`` both open projects
this way, so neither imports the other for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from distill import commands


def project_of(
    args: argparse.Namespace, env: commands.EnvMode = "text", *, models_memo: bool = False
) -> commands.Project:
    """The project of the working folder, with as much of env.py run as ``env`` says
    (``models_memo``: see ``commands.open_project``)."""
    return commands.open_project(
        Path.cwd(),
        config_file=Path(args.config) if args.config else None,
        url=args.url,
        x=args.x or (),
        timeout=args.timeout,
        env_mode=env,
        models_memo=models_memo,
    )
