"""REST handlers: read-only JSON views of the trial store for the sidebar."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from http.client import responses
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from hptaa_lab.errors import StoreError, StudyNotFoundError
from hptaa_lab.server._payloads import (
    check_study_name,
    parse_page,
    parse_states,
    studies_payload,
    study_payload,
    trials_payload,
)
from hptaa_lab.server._reader import NoStoreYetError, StoreReader
from hptaa_lab.store import TrialStore

__all__ = ["API_PATH", "setup_handlers"]

logger = logging.getLogger(__name__)

#: Where the endpoints live, below the server's base URL.
API_PATH = "hptaa/api"

#: Resource name the server's authorizer is asked about (action "read").
AUTH_RESOURCE = "hptaa"


class _StoreHandler(APIHandler):
    """Common ground: the store reader, JSON errors, blocking reads in a thread."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, reader: StoreReader) -> None:
        self.reader = reader

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Reply ``{"status", "reason", "message"}``; never a traceback."""
        reason = responses.get(status_code, "Unknown Error")
        message = reason
        exc_info = kwargs.get("exc_info")
        if exc_info is not None and isinstance(exc_info[1], web.HTTPError):
            error = exc_info[1]
            # tornado doubles each "%" of a message given without arguments.
            message = (error.log_message % error.args) if error.log_message else reason
        elif exc_info is not None:
            message = "Unexpected error in the hptaa_lab server extension; see the server log."
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps({"status": status_code, "reason": reason, "message": message})
        )

    async def _reply(self, build: Callable[[], dict[str, Any]]) -> None:
        """Build a payload in a worker thread and send it; map errors to codes."""
        try:
            payload = await asyncio.to_thread(build)
        except NoStoreYetError as exc:
            raise web.HTTPError(404, str(exc)) from exc
        except StudyNotFoundError as exc:
            raise web.HTTPError(
                404,
                f"No study named {exc.name!r} in the trial store at "
                f"{self.reader.shown}. The sidebar lists the existing studies.",
            ) from exc
        except StoreError as exc:
            logger.warning("Cannot read the trial store: %s", exc)
            raise web.HTTPError(503, str(exc)) from exc
        self.finish(json.dumps(payload, allow_nan=False))

    def _study_name(self, name: str) -> str:
        try:
            return check_study_name(name)
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from exc

    def _open(self) -> TrialStore:
        return self.reader.open()


class StudiesHandler(_StoreHandler):
    """``GET hptaa/api/studies``: every study, with counts, incumbent and links."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        def build() -> dict[str, Any]:
            # The list never answers 404: the sidebar reads a 404 here as a
            # missing server extension.
            try:
                store: TrialStore | None = self._open()
            except NoStoreYetError:
                store = None
            return studies_payload(store, self.reader.shown)

        if self.reader.location.problem is not None:
            raise web.HTTPError(503, self.reader.location.problem)
        await self._reply(build)


class StudyHandler(_StoreHandler):
    """``GET hptaa/api/studies/NAME``: space, mapping, diff, trajectory, twin."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name = self._study_name(name)
        await self._reply(lambda: study_payload(self._open(), name))


class TrialsHandler(_StoreHandler):
    """``GET hptaa/api/studies/NAME/trials?offset=&limit=&state=``: one page."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name = self._study_name(name)
        try:
            states = parse_states(self.get_arguments("state"))
            offset, limit = parse_page(
                self.get_argument("offset", None), self.get_argument("limit", None)
            )
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from exc
        await self._reply(
            lambda: trials_payload(self._open(), name, states, offset, limit)
        )


def setup_handlers(web_app: web.Application, reader: StoreReader) -> None:
    """Add the endpoints under the server's base URL.

    A name segment that is not a plain name (e.g. an encoded "/" or "..")
    still reaches a handler, which answers 400.
    """
    base = url_path_join(web_app.settings.get("base_url", "/"), API_PATH)
    options = {"reader": reader}
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "studies") + "/?", StudiesHandler, options),
            (
                url_path_join(base, r"studies/([^/]+)/trials") + "/?",
                TrialsHandler,
                options,
            ),
            (url_path_join(base, r"studies/(.+?)") + "/?", StudyHandler, options),
        ],
    )
