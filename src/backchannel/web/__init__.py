"""The web application and JSON API (FastAPI, Jinja2). FastAPI and Jinja2 stay here."""
