"""The web view: read-mostly pages for committee officers, secretaries and members.

Served by the process's one HTTP server (`bot.app.web`) under `/web`, for `chibo run`
only. A member signs in with a one-time link from the chat (`/web`); every page checks
the session's member, role and scope on the server. Pages are rendered on the server
(Jinja2 templates, SVG charts) and read without JavaScript.
"""

from bot.web.routes import WebView

__all__ = ["WebView"]
