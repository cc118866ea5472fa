"""Run tests/test_app.py where pytest is not installed: python3 tests/run_without_pytest.py

pytest is what the Dockerfile's test stage runs. This stand-in supports only
what test_app.py uses: plain test_* functions with asserts and function-scoped
(generator) fixtures from the same module, resolved by argument name.
"""

import importlib
import inspect
import pathlib
import sys
import traceback
import types

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # like pytest.ini's pythonpath = .

# A stand-in pytest module whose fixture decorator only marks the function.
shim = types.ModuleType("pytest")


def fixture(fn=None, **_):
    def mark(f):
        f._is_fixture = True
        return f

    return mark(fn) if fn else mark


shim.fixture = fixture
sys.modules["pytest"] = shim

module = importlib.import_module("test_app")


def call_with_fixtures(fn, teardown):
    args = {}
    for name in inspect.signature(fn).parameters:
        fix = getattr(module, name, None)
        if not getattr(fix, "_is_fixture", False):
            raise LookupError(f"{fn.__name__}: no fixture named {name!r}")
        value = call_with_fixtures(fix, teardown)
        if inspect.isgenerator(value):
            teardown.append(value)
            value = next(value)
        args[name] = value
    return fn(**args)


passed, failed = 0, 0
for name, fn in vars(module).items():
    if not (name.startswith("test_") and inspect.isfunction(fn)):
        continue
    teardown = []
    try:
        call_with_fixtures(fn, teardown)
        passed += 1
        print(f"PASS {name}")
    except Exception:
        failed += 1
        print(f"FAIL {name}\n{traceback.format_exc()}")
    finally:
        for gen in reversed(teardown):
            next(gen, None)  # runs the code after the fixture's yield

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
