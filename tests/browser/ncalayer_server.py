"""A local stand-in for NCALayer: a websocket server speaking its `kz.gov.pki.knca.basics` protocol.

There is no NCALayer on CI, so the browser client is tested against this. It behaves like NCALayer as far as the
page can tell: a greeting on connect, heartbeats, `sign` with `format: cms` over base64 `data` (one item or a list:
the multi-sign form), answers `{"status": true, "body": {"result": [...]}}`, an empty body when the "signer" cancels,
`{"status": false, ...}` for bad requests. It signs with a real key (an RSA "NCA" certificate from a test CA), so the
server's check runs for real.

    with NCALayerStandIn(credential) as ncalayer:   # ncalayer.url -> "ws://127.0.0.1:<port>/"
        ...
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from signing.cms import sign_detached
from signing.keys import Credential

MODULE = "kz.gov.pki.knca.basics"
GREETING = json.dumps({"result": {"version": "1.4"}})


@dataclass
class NCALayerStandIn:
    """Runs in its own thread and event loop; `behaviour` is "sign", "cancel" or "sign_other" (signs other bytes).

    `sign_other_at` names the items of a multi-sign request (by index) signed over other bytes, the rest as asked.
    """

    credential: Credential
    behaviour: str = "sign"
    sign_other_at: tuple[int, ...] = ()
    requests: list[dict[str, Any]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def answer(self, request: Any) -> dict[str, Any]:
        """NCALayer's answer to one request (the protocol, without the transport)."""
        if not isinstance(request, dict) or request.get("module") != MODULE:
            return {"success": False, "errorCode": "MODULE_NOT_FOUND"}
        if request.get("method") != "sign":
            return {"status": False, "code": "INVOCATION_ERROR", "message": f"no method {request.get('method')!r}"}
        args = request.get("args") or {}
        if args.get("format") != "cms":
            return {"status": False, "code": "INVALID_SIGNING_PARAMS", "message": "format must be cms or xml"}
        data = args.get("data")
        items = data if isinstance(data, list) else [data]
        params = args.get("signingParams") or {}
        try:
            contents = [
                base64.b64decode(item, validate=True) if params.get("decode") else str(item).encode() for item in items
            ]
        except (binascii.Error, ValueError, TypeError):
            return {"status": False, "code": "INVALID_SIGNING_PARAMS", "message": "data is not base64"}
        if self.behaviour == "cancel":
            return {"status": True, "body": {}}
        if self.behaviour == "sign_other":
            contents = [b"another document: " + content[:64] for content in contents]
        contents = [
            b"another document: " + content[:64] if index in self.sign_other_at else content
            for index, content in enumerate(contents)
        ]
        signatures = [
            base64.b64encode(sign_detached(data=content, credential=self.credential)).decode() for content in contents
        ]
        return {"status": True, "body": {"result": signatures}}

    async def _handle(self, connection: ServerConnection) -> None:
        await connection.send(GREETING)
        async for message in connection:
            if message == "--heartbeat--":
                await connection.send("--heartbeat--")
                continue
            try:
                request = json.loads(message)
            except ValueError:
                await connection.send(json.dumps({"status": False, "code": "GENERAL_ERROR", "message": "not JSON"}))
                continue
            self.requests.append(request)
            # Real NCALayer shows its key dialog here; a heartbeat first is what a slow signer looks like.
            await connection.send("--heartbeat--")
            answer = await asyncio.to_thread(self.answer, request)
            await connection.send(json.dumps(answer))

    def __enter__(self) -> NCALayerStandIn:
        started = threading.Event()

        async def main() -> None:
            self._server = await serve(self._handle, "127.0.0.1", 0)
            self.port = next(iter(self._server.sockets)).getsockname()[1]
            started.set()
            await self._server.serve_forever()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="ncalayer-stand-in", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the NCALayer stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(10)
