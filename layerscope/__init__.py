"""layerscope: see inside container images, layer by layer."""

__version__ = "0.2.0"
