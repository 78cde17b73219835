"""Rendering playbooks into SOP documents and pilot comparisons into review reports.

Everything that touches Jinja2 lives in this package: the sandboxed environment
(`environment`), the filters templates use (`filters`), the wording in both languages
(`wording`), the SOP and report contexts (`sop`, `report`), the offline SVG chart
(`chart`) and the atomic writer (`writer`). Import the submodules you need; this
package module imports nothing heavy.
"""
