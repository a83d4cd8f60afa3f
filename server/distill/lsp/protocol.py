"""The JSON-RPC layer under the server: every request is answered, even one that does not parse.

pygls 2 raises when a message does not fit its type (a negative position, a
string for a number, a missing field): its reader logs the error and shows
"Error in server: Invalid Params" to the user, and the request is never
answered, so the client waits for it forever.  Here a request that cannot be
read gets the JSON-RPC error response it is owed (-32602 Invalid params, with
what was wrong), and a body that is not JSON gets -32700 Parse error with a
null id, as JSON-RPC 2.0 says.

It is also the first to see the initialize request's ``databaseUrl``: its
password is masked in the log from then on, pygls' own log of the request
included (a password whose URL does not look like one is masked by value).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from lsprotocol.types import ResponseError, ResponseErrorMessage
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcParseError
from pygls.protocol import LanguageServerProtocol

from distill.sandbox.log_mask import LOG_MASK

log = logging.getLogger("distill.lsp")


class _Unreadable:
    """What a request that did not parse becomes once it has been answered: nothing to handle."""

    jsonrpc = "2.0"


_UNREADABLE = _Unreadable()


class DistillProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        if isinstance(data, dict) and data.get("method") == "initialize":
            LOG_MASK.add_password_of(_database_url(data.get("params")))
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if not _is_request(data):
                raise  # a notification has no one waiting for it: pygls reports it
            problem = _cause(error)
            log.warning("request %r could not be read: %s", data.get("method"), problem)
            self.answer_error(data["id"], JsonRpcInvalidParams.CODE, f"invalid params: {problem}")
            return _UNREADABLE

    def handle_message(self, message: Any) -> None:
        if message is not _UNREADABLE:
            super().handle_message(message)

    def answer_error(self, message_id: object, code: int, message: str) -> None:
        valid_id = message_id if isinstance(message_id, (int, str)) else None
        error = ResponseError(code=code, message=message)
        self._send_data(ResponseErrorMessage(id=valid_id, error=error))


def answer_parse_error(protocol: DistillProtocol, error: Exception) -> bool:
    """For the server's error reporter: True when ``error`` was a body that is not JSON,
    now answered with a Parse error."""
    if not isinstance(error, json.JSONDecodeError):
        return False
    log.warning("a message that is not JSON: %s", error)
    protocol.answer_error(None, JsonRpcParseError.CODE, f"parse error: {error}")
    return True


def _database_url(params: object) -> str | None:
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    url = options.get("databaseUrl") if isinstance(options, dict) else None
    return url if isinstance(url, str) else None


def _is_request(data: dict[str, Any]) -> bool:
    return isinstance(data, dict) and "id" in data and "method" in data


def _cause(error: BaseException) -> str:
    """What the converter said, in one line: the innermost errors (cattrs nests them)."""
    leaves: list[str] = []
    pending: list[BaseException] = [error.__cause__ or error]
    while pending and len(leaves) < 5:
        current = pending.pop(0)
        inner = getattr(current, "exceptions", None)
        if isinstance(inner, (list, tuple)) and inner:
            pending[:0] = [e for e in inner if isinstance(e, BaseException)]
        else:
            leaves.append(" ".join(str(current).split()) or type(current).__name__)
    return "; ".join(dict.fromkeys(leaves))
