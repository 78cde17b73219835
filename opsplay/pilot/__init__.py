"""Pilot measurement: statistics (`stats`, `clusters`, `designs`, `distributions`,
`weighting`), judging (`judging`, `outcome`), planning (`sizing`, `playbook_plan`), the
comparison that runs them in steps (`compare`) and the presentation of its results
(`presentation`). Exports are read by `opsplay.readers` through the one query
(`opsplay.query`); node logs are `opsplay.nodes`.
"""
