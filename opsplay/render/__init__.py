"""Rendering playbooks into SOP documents and pilot comparisons into review reports.

Everything that touches Jinja2 lives in this package: the sandboxed environment
(`environment`, with the one message catalogue installed for the document's language),
the filters templates use (`filters`), the words for fixed values (`labels`), the SOP
and report contexts (`sop`, `report`), the offline SVG chart
(`chart`) and the atomic writer (`writer`). Import the submodules you need; this
package module imports nothing heavy.
"""
