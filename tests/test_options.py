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


def test_train_flags_come_from_train_options():
    """Issue 15: `steergan train`'s options are generated from TrainOptions (names, defaults)."""
    from dataclasses import MISSING, fields

    from steergan.cli.train import train
    from steergan.train import TrainOptions
    params = {p.name: p for p in train.params}
    for f in fields(TrainOptions):
        if f.metadata.get("cli") is False:
            assert f.name not in params
            continue
        p = params[f.name]
        assert TrainOptions.flag(f.name) in p.opts, (f.name, p.opts)
        default = f.default if f.default is not MISSING else f.default_factory()
        if f.name in ("data", "out"):
            assert p.required
        elif isinstance(default, (dict, list)):
            assert p.default in ("{}", "")
        else:
            assert p.default == default, (f.name, p.default, default)
    assert TrainOptions.flag("g_lr") == "--glr" and TrainOptions.flag("ema_kimg") == "--ema-kimg"
    with pytest.raises(UserError, match="--ema-kimg"):
        TrainOptions(data="x", ema_kimg=-1.0).validate()
