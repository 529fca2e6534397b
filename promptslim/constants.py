"""Names and character classes that several modules share, each defined once."""

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

# Scripts written without spaces between words, as the inside of a regex character class:
# CJK radicals, kana, bopomofo, Han ideographs (extensions A to G, compatibility forms).
# Text in them is split one character at a time.
CJK = "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# marks that end a sentence, in Latin and in full-width CJK punctuation; a clause also ends
# at a colon or a semicolon
SENTENCE_END = ".!?\u3002\uff01\uff1f"
CLAUSE_END = SENTENCE_END + ";:\uff1b\uff1a"
