"""Screens pushed over the main view: content, help, search."""
