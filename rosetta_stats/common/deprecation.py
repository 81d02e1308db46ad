"""Old argument spellings keep working, with a DeprecationWarning that names the new one."""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable


def renamed_arguments(**old_to_new) -> Callable:
    """Decorator: ``@renamed_arguments(key="perturbation")`` accepts ``key=`` as ``perturbation=``.

    A new name may come with a conversion, ``drop_controls=("include_controls", lambda v: not v)``.
    Passing both spellings is an error; the old one warns once per call.
    """
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, target in old_to_new.items():
                new, convert = target if isinstance(target, tuple) else (target, None)
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{function.__name__}() got both {old}= (deprecated) and {new}=; "
                                        f"give only {new}=")
                    warnings.warn(f"{function.__name__}(): {old}= is deprecated, use {new}="
                                  + (" (the opposite value)" if convert is not None else ""),
                                  DeprecationWarning, stacklevel=2)
                    value = kwargs.pop(old)
                    kwargs[new] = convert(value) if convert is not None else value
            return function(*args, **kwargs)
        return wrapper
    return decorate
