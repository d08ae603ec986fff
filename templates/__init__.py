"""Jinja2 templates and CSS for scorecards and QBR packs: presentation only, no scoring logic."""
