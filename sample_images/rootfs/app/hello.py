#!/usr/bin/env python3
"""Tiny demo program shipped in the layerscope sample image."""

import sys


def greet(name: str = "layerscope") -> str:
    return f"hello, {name}!"


if __name__ == "__main__":
    print(greet(*sys.argv[1:2]))
