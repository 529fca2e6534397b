"""Names that several modules share, each defined once."""

# how a prompt is sent: its text as it is, or its messages through the model's chat template
MODES = ("completion", "chat")

# what an optimisation can minimise -> (the variant's figure, what it measures); "tokens"
# adds prompt and completion tokens
OBJECTIVES = {
    "tokens": ("tokens", "tokens per call"),
    "energy": ("energy_j", "energy per call"),
    "cost": ("cost_usd", "cost per call"),
    "co2": ("co2_g", "CO\u2082 per call"),
}
