"""A shortcut for the most repeated request there is: a researcher asking again a query whose
release is stored (free, by design). Answered from memory before routing, with the very
functions the route uses.

`POST /v1/queries` through FastAPI costs about as much as any route there (body parsing,
dependency injection, a worker thread): one process then serves some hundreds per second,
and 50 researchers' notebooks repeating a cell would queue behind each other. This ASGI
middleware answers the request itself only if *every* step of the route's success path can be
taken from memory, each by the route's own code:

- the API key is one `authenticate` has checked before and nothing has revoked since
  (service/api/read_cache.py drops every kept key when any key is created or revoked);
- its role may use the route (service.api.roles, the same matrix);
- the body validates against the route's own pydantic model, and is not a dry run;
- the school year is known, the canonical query has a stored release in this process, and the
  caller's budget view is current.

An answer given is remembered per (key, body) together with the generations of the key, budget
and register tables it was read from (service/api/read_cache.py); it is given again only while
none of them has been written since — the same bytes the steps above would produce.

If any step cannot, or anything raises, the request goes to the application unchanged, which
answers it — errors included — as always. So the shortcut can only answer what the route
would answer, with the same bytes; `tests/api/test_query_shortcut.py` checks that.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import db
from service.api import PREFIX, auth, roles
from service.api import query_answers
from service.api.budget_views import kept_budget_document
from service.releases import queries

PATH = PREFIX + "/queries"
MAX_BODY = 64 * 1024
MEMO_SIZE = 4096
_KEY_HEADER = auth.API_KEY_HEADER.lower().encode("latin-1")


class RepeatedQueryShortcut:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state
        self.answered = 0
        self.memo: dict[tuple[str, bytes], tuple[tuple[int, int, int], bytes]] = {}
        state.query_shortcut = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        secret = None
        for name, value in scope["headers"]:
            if name == _KEY_HEADER:
                secret = value.decode("latin-1")
            elif name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                await self.app(scope, receive, send)
                return
        body, messages = await _read_body(receive)
        answer = self._remembered(secret, body) if body is not None else None
        if answer is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        self.answered += 1
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode("ascii"))]})
        await send({"type": "http.response.body", "body": answer})

    def _remembered(self, secret: str | None, raw: bytes) -> bytes | None:
        """The answer this process gave to the same key and body, if no key, budget or
        register write happened since (then it is the same bytes the route would give now);
        else :meth:`_answer`, remembered for next time."""
        database = getattr(self.state, "database", None)
        if not secret or database is None:
            return None
        now = (database.generation(db.KEYS), database.generation(db.BUDGET),
               database.generation(db.REGISTER), database.generation(db.DATA))
        key = (auth.hash_secret(self.state.settings, secret), raw)
        kept = self.memo.get(key)
        if kept is not None and kept[0] == now:
            return kept[1]
        answer = self._answer(secret, raw, database)
        if answer is not None:
            if len(self.memo) >= MEMO_SIZE:
                self.memo.pop(next(iter(self.memo)))
            self.memo[key] = (now, answer)
        return answer

    def _answer(self, secret: str, raw: bytes, database: db.Database) -> bytes | None:
        state = self.state
        try:
            key = auth.known_key(state.settings, secret, database)
            access = roles.access_for("POST", PATH)      # declared by the route's module
            if key is None or access is None or not access.allows(key.role):
                return None
            body = query_answers.QueryCreate.model_validate_json(raw)
            if body.dry_run or not query_answers.known_dataset_kept(database, body.dataset):
                return None
            stored = queries.stored_query(database, **query_answers.query_args(body))
            if stored is None:
                return None
            budget = kept_budget_document(database, body.dataset, query_answers.principal_of(key))
            if budget is None:
                return None
            return query_answers.answer(stored, budget, database)
        except Exception:  # anything unusual: the application answers, errors included
            return None


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The whole body (None if it grows past MAX_BODY or the client left), and the messages
    read, to hand on unchanged if the application answers."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        size += len(message.get("body", b""))
        if size > MAX_BODY:
            return None, messages
        if not message.get("more_body", False):
            return b"".join(m.get("body", b"") for m in messages), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
