"""Report rendering from the warehouse: Spanish HTML pages with inline SVG charts.

``reports.data`` holds every query, ``reports.charts`` the matplotlib charts and
``reports.pages`` the Jinja2 rendering (``render_site``).
"""
