"""The language server's log, masked: no password in any record its processes write.

Editors show the server's stderr as its log, and pygls logs there every message
it reads and sends (the initialize request's ``databaseUrl`` among them).  The
server and its model worker install this mask at start-up (``mask_logging``).
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus

from distill.masking import mask_text, password_of

# A secret this short is masked only where it stands in a URL: replacing every "ab" of a
# long-lived server log would make it unreadable and hide nothing a URL did not show.
_SHORTEST_SECRET = 4


class PasswordMask(logging.Filter):
    """Masks URL passwords, and the passwords it was told of, in each log record.

    The message is formatted here, once, and kept masked (its arguments dropped), and
    so are the traceback and stack texts: a handler then writes nothing else.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()  # replaced whole: records come from many threads

    def add_password_of(self, url: str | None) -> None:
        """Mask the password of ``url`` too: as it is, as written in ``url``, and escaped."""
        password = password_of(url)
        if url and password and len(password) >= _SHORTEST_SECRET:
            written = url.partition("://")[2].rpartition("@")[0].partition(":")[2]
            forms = {password, written, quote(password, safe=""), quote_plus(password, safe="")}
            forms.discard("")
            self._secrets = tuple(sorted(set(self._secrets) | forms, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_distill_masked", False):
            return True
        secrets = self._secrets
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging would fail on them too
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = mask_text(message, *secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, *secrets)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, *secrets)
        record._distill_masked = True
        return True


LOG_MASK = PasswordMask()


def mask_logging() -> PasswordMask:
    """Every log record this process emits masked, whichever logger or handler writes it.

    The filter goes on every handler there is now, and into the record factory, so
    that records reach handlers added later (a library's, the user's models') masked
    too.  Warnings and uncaught exceptions are written through logging as well.
    """
    handlers = [logging.lastResort, *logging.getLogger().handlers]
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers += logger.handlers
    for handler in handlers:
        if handler is not None and LOG_MASK not in handler.filters:
            handler.addFilter(LOG_MASK)
    make_record = logging.getLogRecordFactory()
    if not getattr(make_record, "_distill_masks", False):

        def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            LOG_MASK.filter(record)
            return record

        masked_record._distill_masks = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(masked_record)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    return LOG_MASK


_log = logging.getLogger("distill")


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    _log.critical("uncaught exception", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    where = args.thread.name if args.thread is not None else "a thread"
    _log.critical("uncaught exception in %s", where,
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))  # fmt: skip
