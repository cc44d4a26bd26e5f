"""psycopg 3 against an Aurora cluster's PostgreSQL endpoint, the cluster created with boto3."""

import psycopg
import pytest


def test_psycopg_on_the_cluster_endpoint(client):
    rds = client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="py-pg",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="pw-for-python",
        DatabaseName="app",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="py-pg-1",
        DBClusterIdentifier="py-pg",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    cluster = rds.describe_db_clusters(DBClusterIdentifier="py-pg")["DBClusters"][0]
    dsn = f"host={cluster['Endpoint']} port={cluster['Port']} user=admin password=pw-for-python dbname=app"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, score numeric(6,2), tags text[])")
        for body, score, tags in [("first", 1.5, ["a"]), ("second", 20.25, ["b", "c"])]:
            conn.execute("INSERT INTO notes (body, score, tags) VALUES (%s, %s, %s)", (body, score, tags))
        rows = conn.execute("SELECT id, body, score::text, tags FROM notes WHERE score > %s ORDER BY id", (1,)).fetchall()
        assert rows == [(1, "first", "1.50", ["a"]), (2, "second", "20.25", ["b", "c"])]
        # Binary results too.
        with conn.cursor(binary=True) as cur:
            cur.execute("SELECT id, body FROM notes WHERE id = %s", (2,))
            assert cur.fetchone() == (2, "second")
        with pytest.raises(psycopg.errors.UniqueViolation) as err:
            conn.execute("INSERT INTO notes (id, body) VALUES (1, 'dup')")
        assert err.value.sqlstate == "23505"
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM notes")
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (2,)
