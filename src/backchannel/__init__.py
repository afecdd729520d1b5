"""Backchannel: confidential negotiation support for track 1.5 diplomacy."""

__version__ = "0.1.0"
