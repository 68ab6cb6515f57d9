"""Reads an export as Athena would, from a local copy: every Parquet file opened by pyarrow (its
schema reported), DuckDB views named like the Glue tables (case_metrics_daily over the Hive-style
day= folders; each current-state table over the files its manifest names), then the queries.
Input on stdin: {"root", "location_prefix", "queries": {name: sql}}. Output: JSON on stdout."""
import glob
import json
import os
import sys

import duckdb
import pyarrow.parquet as pq

spec = json.load(sys.stdin)
root = spec["root"]
schemas = {}
rows = {}
for path in sorted(glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True)):
    table = pq.read_table(path)
    name = os.path.relpath(path, root).split(os.sep)[0]
    schemas.setdefault(name, set()).add(
        json.dumps([[f.name, str(f.type)] for f in table.schema])
    )
    rows[name] = rows.get(name, 0) + table.num_rows

con = duckdb.connect()
con.execute(
    "CREATE VIEW case_metrics_daily AS SELECT * FROM read_parquet("
    f"'{root}/case_metrics_daily/*/*.parquet', hive_partitioning = true, "
    "hive_types = {'day': DATE})"
)
manifests = {}
for name in ["cases", "case_fields", "related_items"]:
    with open(os.path.join(root, name, "current", "manifest")) as f:
        located = f.read().split()
    files = [os.path.join(root, l[len(spec["location_prefix"]):]) for l in located]
    manifests[name] = len(files)
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")

answers = {}
for name, sql in spec["queries"].items():
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    answers[name] = [dict(zip(columns, r)) for r in cur.fetchall()]

print(json.dumps(
    {
        "schemas": {k: [json.loads(s) for s in v] for k, v in schemas.items()},
        "rows": rows,
        "manifests": manifests,
        "answers": answers,
    },
    default=str,
))
