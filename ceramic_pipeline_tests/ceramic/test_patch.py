import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ceramic_pipeline.ceramic.patch import PatchError, apply, diff

json_docs = st.dictionaries(
    st.text(max_size=4),
    st.recursive(
        st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
        max_leaves=8,
    ),
    max_size=5,
)


@given(json_docs, json_docs)
@settings(max_examples=300, deadline=None)
def test_diff_then_apply_reproduces_the_target(old, new):
    assert apply(old, diff(old, new)) == new


def test_escapes_and_js_key_order():
    assert diff({}, {"b": 1, "10": 2, "2": 3, "a/b~": 4}) == [
        {"op": "add", "path": "/2", "value": 3},
        {"op": "add", "path": "/10", "value": 2},
        {"op": "add", "path": "/b", "value": 1},
        {"op": "add", "path": "/a~1b~0", "value": 4},
    ]


def test_true_is_not_one():
    assert diff({"a": 1}, {"a": True}) == [{"op": "replace", "path": "/a", "value": True}]


def test_unchanged_document_needs_no_ops():
    doc = {"a": [1, {"b": "c"}], "d": None}
    assert diff(doc, {"a": [1, {"b": "c"}], "d": None}) == []


def test_bad_patch_is_a_clear_error():
    with pytest.raises(PatchError):
        apply({}, [{"op": "remove", "path": "/missing"}])


@given(json_docs)
@settings(max_examples=200, deadline=None)
def test_diff_from_nothing_equals_the_general_walk(new):
    from ceramic_pipeline.ceramic.patch import _generate

    ops: list = []
    _generate({}, new, ops, "")
    assert diff(None, new) == diff({}, new) == ops
