"""Node execution logs (SPEC 2, 8 and 12): how long each node took against its time limit,
counted as teams count time, for `pilot compare --events`, `pilot sql --events` and `watch`.

In the order the data flows:
- `times`: timestamps as teams write them (`--as-of`);
- `cells`: the log's cells as the query reads them (stamps, status and node words, zones);
- `schedules`, `sql`: the printed node-log query (`pilot sql --events`) and its schedule CTEs;
- `figures`, `query`: the same judged rows run by DuckDB over a local log;
- `log`: reading a log (file or warehouse table) into node figures, with messages and warnings;
- `measures`: the playbook's per-level limits, alerts and schedule adherence (SPEC 8).

Floor: above the model, the working-day calendar, the one query (`opsplay.query`) and the
readers (`opsplay.readers`); never the pilot's statistics or presentation, which build on it.
"""
