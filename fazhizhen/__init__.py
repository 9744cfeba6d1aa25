"""法指针 (fazhizhen): community legal-consultation routing service."""

__version__ = "0.1.0"
