"""The Textual terminal UI over the headless model."""
