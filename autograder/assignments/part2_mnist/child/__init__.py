"""part2_mnist's child side: what the sandbox child imports (keys, inputs and probe models, probes)."""
