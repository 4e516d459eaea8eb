"""Model objects made from specs are the model's own frozen dataclasses, made faster."""
import copy
import dataclasses
import pickle
from ipaddress import ip_interface

import pytest

from netgen.model import specs, types


def _values(cls):
    """One value per field of cls, of the kind the model holds."""
    sample = {"int": 7, "bool": True, "str": "x", "tuple[str, ...]": ("a", "b")}
    out = []
    for f in dataclasses.fields(cls):
        kind = f.type.split(" | ")[0]
        out.append(sample.get(kind, ip_interface("10.0.0.1/30") if "Interface" in kind else f"{f.name}-value"))
    return out


@pytest.mark.parametrize("cls", [types.Attachment, types.BgpSession, types.Device, types.Interface,
                                 types.InternetExit, types.Management, types.Site, types.Vrf])
def test_a_made_object_is_the_model_class_own(cls):
    make = specs.maker(cls)
    args = _values(cls)
    made, own = make(*args), cls(*args)
    assert type(made) is cls and made == own and hash(made) == hash(own) and repr(made) == repr(own)
    assert make(**{f.name: v for f, v in zip(dataclasses.fields(cls), args)}) == own
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, dataclasses.fields(cls)[0].name, "changed")
    assert pickle.loads(pickle.dumps(made)) == own and copy.deepcopy(made) == own
    if any(f.default is not dataclasses.MISSING for f in dataclasses.fields(cls)):  # defaults are cls's own
        required = [f for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        assert make(*args[:len(required)]) == cls(*args[:len(required)])


def test_only_frozen_slotted_dataclasses_are_made_this_way():
    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: tuple = dataclasses.field(default_factory=tuple)

    for cls in (Unslotted, Factory):
        with pytest.raises(TypeError):
            specs.maker(cls)
