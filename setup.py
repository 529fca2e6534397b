"""Package discovery: every package under promptslim/, and cli/ installed as promptslim_cli.

Metadata lives in pyproject.toml; only the package list is computed here, because the CLI's
folder name differs from its import name and setuptools' declarative discovery cannot map it.
"""

from setuptools import find_packages, setup

cli = ["promptslim_cli"] + [f"promptslim_cli.{name}" for name in find_packages("cli")]
setup(
    packages=find_packages(include=["promptslim", "promptslim.*"]) + cli,
    package_dir={"promptslim_cli": "cli"},
)
