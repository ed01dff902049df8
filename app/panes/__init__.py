"""Pyrometer package."""
