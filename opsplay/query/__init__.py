"""The one query: what `pilot sql` prints and DuckDB runs over a file, in every dialect.

- `units`: the unit-rows query (cleaning rules, missing values, the pilot window, one scan for
  all metrics), its dialects' quoting and the full-width fold every printed query shares;
- `columns`: where a metric's numbers are (its columns, the pilot window), plain data;
- `sufficient`: what the query gives per arm and metric (`ArmStats`), plain data;
- `lines`: printed SQL folded to a terminal's width.

Floor: above the model and `opsplay.text` / `opsplay.i18n`; imports no reader, no statistics
and no presentation. The readers (`opsplay.readers`), the node logs (`opsplay.nodes`) and the
pilot's statistics (`opsplay.pilot`) build on it.
"""
