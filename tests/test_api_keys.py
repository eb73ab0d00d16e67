"""API keys: stored only as a keyed hash, shown once, revoked at once; admin endpoints and
the `aanwezig keys` commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api_fixtures import client, keys, settings  # noqa: F401  (fixtures)
from ingest_fixtures import SCHOOL_PO, load_tiny_register
from service.api import auth
from service.cli import app as cli
from service.db import connect
from service.settings import Settings


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
