"""Outbound HTTP adapters the outbox delivers through: WeChat subscribe messages and signed webhooks."""
