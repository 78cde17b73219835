"""Steps 5 and 6 as ongoing work: `opsplay watch` (alerts to chat robots) and iteration history.

state.py keeps what runs remember in one SQLite file; notify.py formats and posts to the
robots; message.py words an alert change; run.py ties one watch run together; history.py
records results and lists them per version; trend.py draws the trend for the report.
"""
