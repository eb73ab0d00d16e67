"""API keys: stored only as a keyed hash, shown once, revoked at once; admin endpoints and
the `aanwezig keys` commands."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from service.api import auth
from service.cli import app as cli
from service.db import connect
from service.settings import Settings
from support.tiny_register import SCHOOL_PO, load_tiny_register


def test_admin_creates_lists_and_revokes_a_key(client, keys):
    admin = keys.header("admin")
    created = client.post("/v1/keys", json={"role": "school", "scope": SCHOOL_PO.lower(),
                                            "label": "De Regenboog"}, headers=admin)
    assert created.status_code == 201
    key = created.json()
    assert key["scope"] == SCHOOL_PO and key["secret"].startswith("aw_")
    me = client.get("/v1/me", headers={"X-API-Key": key["secret"]})
    assert me.json()["key_id"] == key["key_id"] and me.json()["role"] == "school"

    listed = client.get("/v1/keys", headers=admin, params={"pageSize": 100})
    assert listed.status_code == 200
    assert key["key_id"] in {k["key_id"] for k in listed.json()["data"]}
    assert key["secret"] not in listed.text and "hash" not in listed.text

    assert client.delete(f"/v1/keys/{key['key_id']}", headers=admin).status_code == 204
    assert client.get("/v1/me", headers={"X-API-Key": key["secret"]}).status_code == 401
    assert client.delete(f"/v1/keys/{key['key_id']}", headers=admin).status_code == 204
    assert client.delete("/v1/keys/k_0000000000000000", headers=admin).status_code == 404
    assert client.delete("/v1/keys/k_missing", headers=admin).status_code == 400  # not a key id


@pytest.mark.parametrize("body, field, status", [
    ({"role": "school", "scope": "99ZZ99"}, "scope", 404),        # right form, not in the register
    ({"role": "school", "scope": "not-a-school"}, "scope", 400),
    ({"role": "school"}, "scope", 400),
    ({"role": "region", "scope": "GM0363"}, "scope", 400),        # needs level:code
    ({"role": "region", "scope": "municipality:GM9999"}, "scope", 404),
    ({"role": "policy", "scope": "anything"}, "scope", 400),
    ({"role": "researcher", "scope": "a b"}, "scope", 400),
    ({"role": "superuser"}, "role", 400),
])
def test_invalid_key_specs_are_400_and_unknown_scopes_404(client, keys, body, field, status):
    response = client.post("/v1/keys", json=body, headers=keys.header("admin"))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in response.json()["errors"]]
    # a body field of the role's variant reads e.g. "school.scope"
    assert fields and all(f == field or f.endswith("." + field) or f == "body" for f in fields), fields


def test_only_a_keyed_hash_is_stored(settings, keys):
    con = connect(settings.db)
    key_id, secret = auth.create_key(con, settings, "policy", None, "hash check")
    stored = con.execute("SELECT key_hash FROM api_key WHERE key_id = ?", [key_id]).fetchone()[0]
    assert secret not in stored and stored == auth.hash_secret(settings, secret)
    other = Settings(mode="dev", db=settings.db, hmac_key="another-secret-key-of-32-characters")
    assert auth.hash_secret(other, secret) != stored
    with pytest.raises(auth.InvalidKey):
        auth.authenticate(con, other, secret)  # a copy without the HMAC key is useless
    assert auth.authenticate(con, settings, secret).key_id == key_id
    con.close()


def test_cli_keys_create_list_revoke(tmp_path, monkeypatch):
    db = tmp_path / "cli.duckdb"
    con = connect(db)
    load_tiny_register(con)
    con.close()
    monkeypatch.setenv("AANWEZIG_MODE", "dev")
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "region", "--scope",
                                  "municipality:GM0363", "--label", "Amsterdam", "--db", str(db)])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    key_id = created.output.split("key id: ")[1].split()[0]
    listed = runner.invoke(cli, ["keys", "list", "--db", str(db)])
    assert key_id in listed.output and secret not in listed.output
    settings = Settings(mode="dev", db=db)
    con = connect(db)
    assert auth.authenticate(con, settings, secret).region == ("municipality", "GM0363")
    con.close()
    assert runner.invoke(cli, ["keys", "revoke", key_id, "--db", str(db)]).exit_code == 0
    con = connect(db)
    with pytest.raises(auth.InvalidKey):
        auth.authenticate(con, settings, secret)
    con.close()
    assert runner.invoke(cli, ["keys", "revoke", "k_missing", "--db", str(db)]).exit_code == 1
    refused = runner.invoke(cli, ["keys", "create", "--role", "school", "--scope", "99ZZ99",
                                  "--db", str(db)])
    assert refused.exit_code == 2


def _admin_key(settings, label: str, **kwargs) -> tuple[str, str]:
    con = connect(settings.db)
    try:
        return auth.create_key(con, settings, "admin", None, label, **kwargs)
    finally:
        con.close()


def _active_admin_ids(settings) -> set[str]:
    con = connect(settings.db)
    try:
        return {k.key_id for k in auth.list_keys(con) if k.role is auth.Role.admin
                and k.revoked_at is None and not k.expired()}
    finally:
        con.close()


def test_the_last_active_admin_key_cannot_revoke_itself(client, settings, keys):
    (only,) = _active_admin_ids(settings)  # the fixture's admin key; its other admin is revoked
    header = keys.header("admin")
    refused = client.delete(f"/v1/keys/{only}", headers=header)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:aanwezig:problem:conflict"
    assert "last active admin key" in refused.json()["detail"]
    assert "Create another admin key first" in refused.json()["detail"]
    assert client.get("/v1/me", headers=header).status_code == 200  # still works

    # an expired admin key does not count as another admin
    expired_id, _ = _admin_key(settings, "expired", expires_at=datetime.now(timezone.utc)
                               - timedelta(minutes=1))
    assert client.delete(f"/v1/keys/{only}", headers=header).status_code == 409
    # with a second active admin the first may revoke itself
    other_id, other = _admin_key(settings, "second admin")
    assert client.delete(f"/v1/keys/{only}", headers=header).status_code == 204
    assert client.get("/v1/me", headers=header).status_code == 401
    # now the second is the last one
    assert client.delete(f"/v1/keys/{other_id}",
                         headers={"X-API-Key": other}).status_code == 409
    # the bootstrap admin, or the steward's command line, may still revoke it
    assert client.delete(f"/v1/keys/{other_id}", headers=keys.header("bootstrap")).status_code == 204
    assert expired_id not in _active_admin_ids(settings)


def test_an_expired_key_is_refused_like_a_revoked_one(client, settings, keys):
    con = connect(settings.db)
    soon_id, soon = auth.create_key(con, settings, "policy", None, "expires soon",
                                    expires_at=datetime.now(timezone.utc) + timedelta(seconds=2))
    _, past = auth.create_key(con, settings, "school", SCHOOL_PO, "expired",
                              expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    con.close()
    gone = client.get("/v1/me", headers={"X-API-Key": past})
    unknown = client.get("/v1/me", headers={"X-API-Key": "aw_" + "x" * 43})
    assert gone.status_code == unknown.status_code == 401
    assert gone.json()["detail"] == unknown.json()["detail"]  # expired looks like unknown
    # a key the process holds in memory expires all the same
    me = client.get("/v1/me", headers={"X-API-Key": soon})
    assert me.status_code == 200 and me.json()["expires_at"] is not None
    deadline = datetime.fromisoformat(me.json()["expires_at"].replace("Z", "+00:00"))
    time.sleep(max(0.0, (deadline - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    assert client.get("/v1/me", headers={"X-API-Key": soon}).status_code == 401
    assert client.post("/v1/queries", headers={"X-API-Key": soon},
                       json={"measure": "pupils"}).status_code == 401
    listed = {k["key_id"]: k for k in client.get("/v1/keys", headers=keys.header("admin"),
                                                 params={"pageSize": 100}).json()["data"]}
    assert listed[soon_id]["expires_at"] is not None and listed[soon_id]["revoked_at"] is None


def test_a_key_created_with_an_expiry_over_http_carries_it(client, keys):
    created = client.post("/v1/keys", json={"role": "policy", "expires_in_days": 30},
                          headers=keys.header("admin"))
    assert created.status_code == 201
    expires = datetime.fromisoformat(created.json()["expires_at"].replace("Z", "+00:00"))
    days = (expires - datetime.now(timezone.utc)).total_seconds() / 86400
    assert 29.99 < days <= 30
    for bad in (0, 3651, "soon"):
        refused = client.post("/v1/keys", json={"role": "policy", "expires_in_days": bad},
                              headers=keys.header("admin"))
        assert refused.status_code == 400, bad
        assert [e["field"] for e in refused.json()["errors"]][-1].endswith("expires_in_days")


def test_rotation_over_http_create_the_successor_then_revoke_the_old_key(client, settings, keys):
    old = keys.header("admin")
    old_id = client.get("/v1/me", headers=old).json()["key_id"]
    made = client.post("/v1/keys", json={"role": "admin", "label": "rotated"}, headers=old)
    assert made.status_code == 201
    new = {"X-API-Key": made.json()["secret"]}
    assert client.get("/v1/me", headers=new).json()["role"] == "admin"
    assert client.delete(f"/v1/keys/{old_id}", headers=new).status_code == 204
    assert client.get("/v1/me", headers=old).status_code == 401
    assert client.get("/v1/keys", headers=new).status_code == 200


def test_rotation_with_the_cli_and_an_expiring_key(tmp_path, monkeypatch):
    db = tmp_path / "rotate.duckdb"
    con = connect(db)
    load_tiny_register(con)
    con.close()
    monkeypatch.setenv("AANWEZIG_MODE", "dev")
    runner = CliRunner()

    def create(*extra: str) -> tuple[str, str]:
        made = runner.invoke(cli, ["keys", "create", "--role", "school", "--scope", SCHOOL_PO,
                                   "--db", str(db), *extra])
        assert made.exit_code == 0, made.output
        return made.output.split("key id: ")[1].split()[0], made.output.strip().splitlines()[-1]

    old_id, old = create()
    new_id, new = create("--expires-in-days", "90")
    assert runner.invoke(cli, ["keys", "revoke", old_id, "--db", str(db)]).exit_code == 0
    settings = Settings(mode="dev", db=db)
    con = connect(db)
    with pytest.raises(auth.InvalidKey):
        auth.authenticate(con, settings, old)
    key = auth.authenticate(con, settings, new)
    con.close()
    assert key.key_id == new_id and key.scope == SCHOOL_PO
    days = (key.expires_at - datetime.now(timezone.utc)).total_seconds() / 86400
    assert 89.99 < days <= 90
    listed = runner.invoke(cli, ["keys", "list", "--db", str(db)], env={"COLUMNS": "200"})
    assert key.expires_at.strftime("%Y-%m-%d") in listed.output
    assert runner.invoke(cli, ["keys", "create", "--role", "policy", "--expires-in-days", "0",
                               "--db", str(db)]).exit_code == 2


def test_a_database_from_before_expiry_gains_the_column(tmp_path):
    import duckdb
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE api_key (key_id VARCHAR PRIMARY KEY, key_hash VARCHAR NOT NULL "
                "UNIQUE, role VARCHAR NOT NULL, scope VARCHAR, label VARCHAR NOT NULL DEFAULT '', "
                "created_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP)")
    settings = Settings(mode="dev", db=path)
    old.execute("INSERT INTO api_key VALUES ('k_0123456789abcdef', ?, 'policy', NULL, 'old', "
                "now()::TIMESTAMP, NULL)", [auth.hash_secret(settings, "aw_old")])
    old.close()
    con = connect(path)
    assert auth.authenticate(con, settings, "aw_old").expires_at is None
    key_id, secret = auth.create_key(con, settings, "policy", None, "new",
                                     expires_at=datetime.now(timezone.utc) + timedelta(days=1))
    assert auth.authenticate(con, settings, secret).expires_at is not None
    con.close()
