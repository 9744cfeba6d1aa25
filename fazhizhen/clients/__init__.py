"""Adapters to outside services (HTTP clients); services use them through plain functions."""
