"""Running the user's code for the editor: model imports and replays in forked children.

The language server never imports a project's models or runs its revisions
itself.  ``client.ModelWorker`` asks a warm host process (``host``) to fork a
child per build (``child``: the models from the editor's buffers;
``migrations``: the replay), with a time limit and a restricted unpickler on
what comes back (``protocol``).  ``launch`` makes the command line of every
process the server starts; ``descendants`` ends what a build left running;
``log_mask`` keeps database passwords out of every log line.
"""
