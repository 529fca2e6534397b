"""How prompts get cheaper: one generator per module, each proposing checked variants."""
