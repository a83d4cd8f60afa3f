"""The server object: its state, the analysis schedule, publishing diagnostics.

The LSP features that act on it are registered in ``server`` (documents,
revision files, status) and ``actions`` (quick fixes and commands).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from distill.errors import DistillError
from distill.lsp import convert
from distill.lsp.protocol import DistillProtocol, answer_parse_error
from distill.lsp.session import Analysis, Session, Settings
from distill.masking import mask_text
from distill.release import VERSION as __version__

if TYPE_CHECKING:
    from pygls.server import ServerErrors  # a typing alias only

log = logging.getLogger("distill.lsp")

UNTRUSTED = (
    "Distill is not running in this workspace because it is not trusted: checking drift "
    "imports your models and runs your migration scripts. Trust the workspace to enable it."
)


class DistillServer(LanguageServer):
    protocol: DistillProtocol

    def __init__(self) -> None:
        super().__init__("distill", __version__, protocol_cls=DistillProtocol)
        self.session: Session | None = None
        self.trusted = False  # until initialize says otherwise
        # What initializationOptions held that was not understood (lsp.options), said once.
        self.option_problems: tuple[str, ...] = ()
        self.debounce = 0.3
        self.settings = Settings()
        self.root: Path | None = None
        self.analysis: Analysis | None = None
        self.status_error: str | None = None
        self._said: str | None = None  # the analysis failure last shown to the user
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self._again = False
        # Database changes commands made, and how many of them the last analysis saw.
        self._database_changes = 0
        self._database_changes_analysed = 0
        self._refresh_database = False
        self._published: set[str] = set()
        self.stopped = False  # after shutdown: nothing is analysed or published any more

    def report_server_error(self, error: Exception, source: ServerErrors) -> None:
        if not answer_parse_error(self.protocol, error):
            super().report_server_error(error, source)

    def stop(self) -> None:
        """For shutdown: no new analysis, none published, the worker closed."""
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()
        if self.session is not None:
            self.session.close()

    # -- scheduling: one analysis at a time, the latest edits always included ---------

    def schedule(self, delay: float | None = None, *, refresh_database: bool = False) -> None:
        if self.session is None or self.stopped:
            return
        self._refresh_database |= refresh_database
        if refresh_database:
            self._database_changes += 1  # a command changed it: answers wait for the news
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        wait = self.debounce if delay is None else delay
        self._timer = loop.call_later(wait, lambda: asyncio.ensure_future(self.run_analysis()))

    async def run_analysis(self) -> None:
        session = self.session
        if session is None:
            return
        if self._running:
            self._again = True  # edits arrived meanwhile: once more when this one ends
            return
        self._running, self._again = True, False
        refresh, self._refresh_database = self._refresh_database, False
        changes_included = self._database_changes
        try:
            analysis = await asyncio.to_thread(
                session.analyse, self.buffers(), refresh_database=refresh
            )
        except DistillError as error:
            self.status_error = str(error)
            log.warning("analysis failed: %s", error)
            self.say_once(f"Distill cannot check this project: {error}")
        except Exception as error:
            log.exception("analysis failed")  # a bug: logged, the server goes on
            self.say_once(
                f"Distill's analysis failed ({type(error).__name__}: {error}); "
                "the server log has the details"
            )
        else:
            if self.stopped:
                return  # shut down meanwhile: its result (a closed worker) is not news
            self.analysis, self.status_error = analysis, None
            self._said = None  # a later failure is news again
            self.publish(analysis)
        finally:
            self._running = False
            self._database_changes_analysed = changes_included
        if self._again:
            self.schedule(0)

    async def caught_up(self, timeout: float = 30.0) -> None:
        """Wait until the last analysis includes every database change a command made
        (``distill/status`` right after an upgrade names the new revision, not the old)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (
            self._database_changes_analysed < self._database_changes
            and not self.stopped
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(0.05)

    def say_once(self, message: str) -> None:
        """Show why the analysis cannot run: once per reason, never silence, never a
        message on every keystroke."""
        if self.stopped or message == self._said:
            return
        self._said = message
        shown = mask_text(message)  # a URL in an exception's text keeps no password
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=shown)
        )

    def buffers(self) -> dict[str, str]:
        """Open Python buffers by path: what the user sees, saved or not."""
        found = {}
        for document in list(self.workspace.text_documents.values()):
            if document.uri.startswith("file:") and document.uri.endswith(".py"):
                path = to_fs_path(document.uri)
                if path is not None:
                    found[path] = document.source
        return found

    # -- publishing -----------------------------------------------------------------------

    def publish(self, analysis: Analysis) -> None:
        session = self.session
        assert session is not None
        by_path = convert.diagnostics(
            analysis, session.view.analysis, session.models_file or session.config_file
        )
        self.publish_all(by_path)

    def publish_all(self, by_path: dict[str, list[types.Diagnostic]]) -> None:
        uris = set()
        for path, diagnostics in by_path.items():
            uri = from_fs_path(path) or path
            uris.add(uri)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
            )
        for uri in self._published - uris:  # fixed since: clear what was shown
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )
        self._published = {u for u in uris if by_path.get(to_fs_path(u) or u)}
