"""The language server: drift on the model lines, revision-file findings, commands.

``server`` registers the LSP features, ``language_server`` holds the state,
``session`` runs one project's analysis (through ``commands`` and the
``sandbox``; this package runs no project code and imports of the engine only
data types), ``convert`` turns an analysis into diagnostics, lenses and hints,
``placement``/``locate`` find the model line of each item, ``migration_files``
reads the revision files as the user sees them, ``actions`` are the commands
the editor runs (project code runs in ``distill`` processes: ``cli_runs``).
"""
