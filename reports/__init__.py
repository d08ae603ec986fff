"""Turns scored partners into PDF scorecards and QBR packs (Jinja2 templates + WeasyPrint)."""
