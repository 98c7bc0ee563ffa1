"""The review portal: static pages served by the app next to its API.

The pages are plain HTML, CSS and JavaScript in ``portal/static/`` and use only the
HTTP API under ``/api``. ``portal.handlers`` serves them with a strict
Content-Security-Policy.
"""
