"""The README documents every setting the service reads and shows the two set-up commands."""

from pathlib import Path

from service.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    missing = [name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in README]
    assert not missing, f"README configuration table lacks {missing}"


def test_every_documented_variable_is_a_setting():
    documented = {line.split("`")[1] for line in README.splitlines() if line.startswith("| `") and line.count("|") == 4
                  and line.split("`")[1].isupper()}
    assert documented <= {n.upper() for n in Settings.model_fields}


def test_readme_shows_the_two_setup_commands():
    assert "make run" in README and "make test" in README
