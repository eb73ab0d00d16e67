"""API keys: creation, revocation and authentication.

A key is a random secret (``aw_`` + 43 URL-safe characters, 256 bits) shown once when it is
created. The database keeps only ``HMAC-SHA256(K, secret)`` where ``K`` is derived from the
service's ``AANWEZIG_HMAC_KEY`` with a fixed label, so a copy of the database yields no usable
key, and the lookup is by hash (an attacker who cannot compute the keyed hash learns nothing
from timing). Rotating ``AANWEZIG_HMAC_KEY`` therefore invalidates every stored key.

The bootstrap admin key (``AANWEZIG_ADMIN_KEY``) works without being in the table, so a fresh
installation can create its first keys; it is compared in constant time.

A stored key may carry an expiry (``expires_at``, UTC): from that moment it is refused like a
revoked key, also when this process has it in memory. Rotation is two steps, create the new
key, then revoke the old one (docs/api.md, "Expiry and rotation"). The last active admin key
cannot revoke itself, so an admin cannot lock every admin out by mistake.

Exceptions::

    AuthError
    ├── MissingKey       no X-API-Key header               → 401
    ├── InvalidKey       unknown or revoked key (one class: we never say which) → 401
    └── AccessDenied     authenticated, but not allowed here → 403
    InvalidKeySpec       bad role/scope when creating a key  → 400
    KeyNotFound          no key with that id                 → 404
    LastAdminKey         the last active admin key revoking itself → 409
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

import sql
from service import db, errors
from service.api.read_cache import valid_keys
from service.register import lookup
from service.settings import Settings

API_KEY_HEADER = "X-API-Key"
SECRET_PREFIX = "aw_"
BOOTSTRAP_KEY_ID = "bootstrap-admin"
_HASH_LABEL = b"aanwezig api-key v1"
_RESEARCHER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SCHOOL_ID = re.compile(r"^[0-9]{2}[A-Z]{2}[0-9]{2}$")


class Role(str, enum.Enum):
    """Who a key belongs to; see service/api/roles.py for what each may do."""

    school = "school"
    researcher = "researcher"
    region = "region"
    policy = "policy"
    admin = "admin"


@dataclass(frozen=True)
class ApiKey:
    """An authenticated caller. `scope` is the school id, researcher id or `level:code`."""

    key_id: str
    role: Role
    scope: str | None
    label: str = ""
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the key's expiry has passed (never, without one)."""
        return self.expires_at is not None and self.expires_at <= (now or datetime.now(timezone.utc))

    @property
    def region(self) -> tuple[str, str] | None:
        """(level, code) of a region key's area, else None."""
        if self.role is not Role.region or not self.scope:
            return None
        level, _, code = self.scope.partition(":")
        return level, code


#: The statements on `api_key` (sql/auth.sql).
_SQL = sql.named("auth")


class AuthError(errors.ServiceError):
    """The caller could not be authenticated or is not allowed."""


#: How a 401 answer says what to send.
CHALLENGE = {"WWW-Authenticate": 'APIKey header="X-API-Key"'}


class MissingKey(AuthError, errors.NotAuthenticated):
    def __init__(self) -> None:
        super().__init__(f"send an API key in the {API_KEY_HEADER} header", headers=CHALLENGE)


class InvalidKey(AuthError, errors.NotAuthenticated):
    """Unknown or revoked: deliberately one class with one message."""

    def __init__(self) -> None:
        super().__init__("the API key is not valid", headers=CHALLENGE)


class AccessDenied(AuthError, errors.Forbidden):
    def __init__(self, reason: str = "this key may not use this resource") -> None:
        self.reason = reason
        super().__init__(reason)


class InvalidKeySpec(errors.InvalidInput, ValueError):
    """A key cannot be created with this role, scope or label."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}",
                         errors=[{"in": "body", "field": field, "message": message}])


class UnknownScope(errors.NotFound, InvalidKeySpec):
    """The scope has the right form but names no school or area of the register."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.detail = "the scope names nothing in the register"


class LastAdminKey(errors.Conflict):
    """The caller's key is the last active admin key and would revoke itself."""

    def __init__(self) -> None:
        super().__init__("this is the last active admin key: it cannot revoke itself. Create "
                         "another admin key first (POST /v1/keys or aanwezig keys create "
                         "--role admin), then revoke this one with the new key")


class KeyNotFound(errors.NotFound, LookupError):
    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"no API key with id {key_id!r}", detail="no API key with this id")


def _utc_now() -> datetime:
    """Now in UTC, naive, as stored (TIMESTAMP columns hold UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


def _stored(moment: datetime | None) -> datetime | None:
    """A time as stored: UTC, naive (a naive time is taken to be UTC already)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _hash_key(settings: Settings) -> bytes:
    return hmac.new(settings.hmac_key.encode("utf-8"), _HASH_LABEL, hashlib.sha256).digest()


def hash_secret(settings: Settings, secret: str) -> str:
    """The stored form of a secret: hex HMAC-SHA256 under a key derived from hmac_key."""
    return hmac.new(_hash_key(settings), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def validate_scope(con: duckdb.DuckDBPyConnection, role: Role, scope: str | None) -> str | None:
    """The scope normalised for `role`, or InvalidKeySpec. School and region scopes must be
    in the public register, so a key can never name a group that does not exist."""
    scope = (scope or "").strip() or None
    if role in (Role.policy, Role.admin):
        if scope is not None:
            raise InvalidKeySpec("scope", f"the {role.value} role takes no scope")
        return None
    if scope is None:
        raise InvalidKeySpec("scope", f"the {role.value} role needs a scope")
    if role is Role.school:
        scope = scope.upper()
        if not _SCHOOL_ID.match(scope):
            raise InvalidKeySpec("scope", "a school id is BRIN + vestiging, e.g. 12AB00")
        if not lookup.school_exists(con, scope):
            raise UnknownScope("scope", f"school {scope} is not in the register")
        return scope
    if role is Role.region:
        level, sep, code = scope.partition(":")
        if not sep:
            raise InvalidKeySpec("scope", "a region scope is level:code of a register area, "
                                          "e.g. municipality:GM0363")
        if not lookup.area_exists(con, level, code):
            raise UnknownScope("scope", "a region scope is level:code of a register area, "
                                        "e.g. municipality:GM0363")
        return f"{level}:{code}"
    if not _RESEARCHER_ID.match(scope):
        raise InvalidKeySpec("scope", "a researcher id is 1-64 letters, digits, '.', '_' or '-'")
    return scope


def create_key(con: duckdb.DuckDBPyConnection, settings: Settings, role: Role | str,
               scope: str | None = None, label: str = "", *,
               expires_at: datetime | None = None,
               database: db.Database | None = None) -> tuple[str, str]:
    """Store a new key and return ``(key_id, secret)``; the secret is not kept anywhere.
    `expires_at` (a naive time is read as UTC) ends the key at that moment. `database`: the
    file's `service.db.Database`, told that the keys changed."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidKeySpec("role", "one of " + ", ".join(r.value for r in Role)) from None
    if len(label) > 200:
        raise InvalidKeySpec("label", "at most 200 characters")
    scope = validate_scope(con, role, scope)
    key_id = "k_" + secrets.token_hex(8)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    con.execute(_SQL["insert_key"], {"key_id": key_id, "key_hash": hash_secret(settings, secret),
                                     "role": role.value, "scope": scope, "label": label,
                                     "created_at": _utc_now(), "expires_at": _stored(expires_at)})
    db.or_detached(database).changed(db.KEYS)
    return key_id, secret


def revoke_key(con: duckdb.DuckDBPyConnection, key_id: str, *,
               caller: ApiKey | None = None, database: db.Database | None = None) -> None:
    """Revoke a key (idempotent for a revoked key); KeyNotFound if there is no such key.

    `caller` is the key asking (None: the data steward's command line). An admin key revoking
    itself while no other stored admin key is active (not revoked, not expired) raises
    LastAdminKey and changes nothing; the check and the update are one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        if con.execute(_SQL["key_exists"], {"key_id": key_id}).fetchone() is None:
            raise KeyNotFound(key_id)
        if caller is not None and caller.key_id == key_id and caller.role is Role.admin:
            others = con.execute(_SQL["other_active_admins"],
                                 {"key_id": key_id, "now": _utc_now()}).fetchone()[0]
            if others == 0:
                raise LastAdminKey()
        con.execute(_SQL["revoke"], {"now": _utc_now(), "key_id": key_id})
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    db.or_detached(database).changed(db.KEYS)   # kept valid keys go


def list_keys(con: duckdb.DuckDBPyConnection) -> list[ApiKey]:
    """Every stored key (without secrets or hashes), oldest first."""
    rows = con.execute(_SQL["list_keys"]).fetchall()
    return [ApiKey(k, Role(r), s, lbl, _utc(c), _utc(rv), _utc(ex))
            for k, r, s, lbl, c, rv, ex in rows]


def authenticate(con: duckdb.DuckDBPyConnection, settings: Settings,
                 secret: str | None, database: db.Database | None = None) -> ApiKey:
    """The key for `secret`, or MissingKey / InvalidKey (unknown, revoked and expired look the
    same).

    `database` (the server passes its own) keeps valid keys in memory until the next key is
    created or revoked (service/api/read_cache.py); unknown secrets are never kept."""
    if not secret:
        raise MissingKey()
    if settings.admin_key and hmac.compare_digest(secret.encode("utf-8"),
                                                  settings.admin_key.encode("utf-8")):
        return ApiKey(BOOTSTRAP_KEY_ID, Role.admin, None, "bootstrap admin key")
    hashed = hash_secret(settings, secret)

    def load() -> ApiKey:
        row = con.execute(_SQL["key_by_hash"], {"key_hash": hashed}).fetchone()
        if row is None:
            raise InvalidKey()
        return ApiKey(row[0], Role(row[1]), row[2], row[3], _utc(row[4]), None, _utc(row[5]))

    key = valid_keys(database).get(hashed, load) if database is not None else load()
    if key.expired():  # checked on every request: a key kept in memory expires too
        raise InvalidKey()
    return key


def known_key(settings: Settings, secret: str, database: db.Database) -> ApiKey | None:
    """The key for `secret` if :func:`authenticate` has it in memory (valid, not revoked
    since), else None — which means "authenticate properly", not "invalid"."""
    found = valid_keys(database).peek(hash_secret(settings, secret))
    return found if isinstance(found, ApiKey) and not found.expired() else None
