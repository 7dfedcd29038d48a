from files.tests.conftest import media  # noqa: F401
