"""How a pilot's results are shown to people: one room above the statistics and judging.

- `words`: labels, verdicts and the plain sentence per metric, from the message catalogue;
- `cells`: the cells and lines the human formats share (tables, method section, alerts, nodes);
- `formats`: the output formats of `pilot compare` by name (json, csv, markdown, text);
- `terminal`: the rich terminal table, with blocks when it does not fit.

May import the statistics and judging rooms (`opsplay.pilot.stats`, `judging`, `outcome`,
`clusters`) and `opsplay.text` / `opsplay.i18n`; never `compare` (which runs a comparison) or
the CLI.
"""
