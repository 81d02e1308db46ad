"""Old argument spellings keep working, with a DeprecationWarning that names the new one."""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable


def renamed_arguments(**old_to_new: str) -> Callable:
    """Decorator: ``@renamed_arguments(key="perturbation")`` accepts ``key=`` as ``perturbation=``.

    Passing both spellings is an error; the old one warns once per call.
    """
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{function.__name__}() got both {old}= (deprecated) and {new}=; "
                                        f"give only {new}=")
                    warnings.warn(f"{function.__name__}(): {old}= is deprecated, use {new}=",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)
        return wrapper
    return decorate
