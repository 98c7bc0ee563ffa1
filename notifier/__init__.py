"""Rendering, sender choice, sending and delivery state of result notifications."""
