"""`promptslim.__all__` names exactly the public names the package exports, in order."""

import types

import promptslim


def test_all_is_every_public_name_of_the_package():
    public = [
        name
        for name, value in vars(promptslim).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)  # submodules are not exports
    ]
    assert promptslim.__all__ == sorted(public)
