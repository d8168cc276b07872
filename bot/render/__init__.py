"""Renderers: answers as HTML text, the Gantt chart, calendar, report and workbooks."""
