"""Real-time delivery: the commit-order stream sequencer, one LISTEN connection per process, the hub."""
