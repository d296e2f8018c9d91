"""The cockpit (驾驶舱 and 教育一张图): the web UI for every role, served by `edubrain serve`.

Server-rendered pages (Jinja2) over the API's own route functions, so every page reads through
the same policy, scoped queries, masking and audit as `/api/v1`; a little JavaScript draws the
charts with a custom Apache ECharts build served from this package (no CDN, no web fonts).
See docs/cockpit.md and decision 0009.
"""
