"""What a call costs: energy (measured or estimated, always labelled), CO2 and dollars."""
