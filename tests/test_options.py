"""Method options are parsed by one function from one dataclass per method."""
import pytest

from steergan.errors import UserError
from steergan.methods import build_method
from steergan.methods.options import options_table, parse_options
from steergan.methods.link.method import LinkOptions
from steergan.methods.semantic.method import SemanticOptions
from steergan.methods.spatial.method import SpatialOptions


@pytest.mark.parametrize("name,bad,fragment", [
    ("spatial", {"tau": 1.0}, "in [0, 1)"),
    ("spatial", {"tau": float("nan")}, "a number"),
    ("spatial", {"sel": "fancy"}, "choose one of norm"),
    ("spatial", {"paired": 1}, "true/false"),
    ("spatial", {"n_objects": 2.5}, "an integer"),
    ("spatial", {"taus": 0.1}, "unknown spatial option"),
    ("semantic", {"lambda_mask": -1}, "in [0, 1e+06]"),
    ("semantic", {"local_channels": True}, "an integer"),
    ("link", {"links": [{"region": {"box": [0, 0, 1, 1]}, "axes": 2}], "interval": None}, "not null"),
])
def test_every_method_reports_bad_options_the_same_way(name, bad, fragment):
    with pytest.raises(UserError, match=f"{name} option" if "unknown" not in fragment else fragment) as e:
        build_method(name, bad)
    assert fragment in str(e.value)


@pytest.mark.parametrize("cls", [SpatialOptions, LinkOptions, SemanticOptions])
def test_defaults_parse_and_the_table_lists_every_field(cls):
    import dataclasses
    parsed = parse_options(cls, {}, "x")
    assert parsed == cls()
    table = options_table(cls)
    for f in dataclasses.fields(cls):
        assert f"| `{f.name}` |" in table


def test_saved_options_round_trip_through_the_dataclass():
    m = build_method("spatial", {"sampling": "multi", "align": "segmenter", "segmenter": "rooms"})
    again = build_method("spatial", m.options())
    assert again.options() == m.options() and again.sel == "indoor" and again.align == "segmenter"
