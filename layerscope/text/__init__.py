"""The text views, one module per command: what a person reads on a terminal or in a CI log.

Each takes the model (and the analysis) and an output with a width, and only
words and lays out; the rules live in ``analysis``, ``gate``, ``compare`` and
``stacks``, the JSON documents beside their owners (``report``, ``listing``,
``gate``, ``compare``, ``stacks``, ``packages.document``).
"""
