"""Requesting the pages, and what their queries say beyond the time they took."""
