"""The chaos soak: real processes, a seeded schedule of faults, and what must hold afterwards."""
