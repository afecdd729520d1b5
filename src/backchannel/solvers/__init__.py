"""Engines that answer negotiation questions on a compiled problem."""
