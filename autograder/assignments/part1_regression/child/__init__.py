"""part1_regression's child side: what the sandbox child imports (keys, inputs and probe models, probes)."""
