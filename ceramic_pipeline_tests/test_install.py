"""The install resolved the matched Dagster set (an unpinned install silently picks 2021 libraries)."""

from importlib.metadata import version

from packaging.version import Version


def test_dagster_packages_are_one_matched_release():
    core = Version(version("dagster"))
    assert Version(version("dagster-webserver")) == core
    for library in ("dagster-postgres", "dagster-k8s"):
        lib = Version(version(library))
        # library minor = core minor + 16 (core 1.13.x pairs with libraries 0.29.x), same micro
        assert (lib.major, lib.minor, lib.micro) == (0, core.minor + 16, core.micro), library


def test_sqlalchemy_stays_below_2_1():
    """SQLAlchemy 2.1 makes postgresql:// mean psycopg 3, which dagster-postgres does not install."""
    assert Version(version("sqlalchemy")) < Version("2.1")


def test_psycopg_is_version_3():
    assert Version(version("psycopg")).major == 3
