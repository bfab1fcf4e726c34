"""The web chat: the Gradio page (``page``), its HTTP layer (``middleware``: security headers,
the API's defaults) and the per-client rate limit (``limits``).

Importing this package stays cheap and offline: Gradio is imported when a page is built.
"""

from .page import API_NAME, EXAMPLES, FEEDBACK_FILE, LABELS, build_app, launch_options, serve

__all__ = ["build_app", "launch_options", "serve", "LABELS", "EXAMPLES", "API_NAME", "FEEDBACK_FILE"]
