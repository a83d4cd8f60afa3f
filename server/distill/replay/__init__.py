"""Symbolic replay: the schema a history gives, without a database.

``recorder.replay`` runs the revision scripts with an ``Operations`` that
records each op instead of executing it; ``apply.apply_op`` folds an op into a
``Schema`` (the rules for tables, constraints and enums are ``tables``,
``constraints``, ``enums`` and ``enum_sql``); an effect that cannot be known
without a database raises ``schema.InexactReplay``, and ``scratch`` then runs
the history on a throw-away database instead.  ``cache`` keeps both results
outside the project.  Arrows: ``replay`` uses ``ops``, ``schema``, ``scripts``
and ``runtime``; ``autogen``, ``sandbox`` and the commands use it.
"""
