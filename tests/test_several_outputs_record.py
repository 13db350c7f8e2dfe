"""The generated record of ops that give several outputs (split, chunk, unbind, unsafe_split):
Note [Generated recording of several outputs] (ops/_recording.py). Each behaviour is compared
with PyTorch where it has one."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd.graph import meta_of

_CUTS = {
    "chunk": lambda x: x.chunk(3, 1),
    "split": lambda x: x.split(3, 1),
    "split_with_sizes": lambda x: x.split([2, 5, 1], 1),
    "unbind": lambda x: x.unbind(0),
    "unsafe_chunk": lambda x: x.unsafe_chunk(3, 1),
    "unsafe_split": lambda x: x.unsafe_split(3, 1),
}

_VALUES = np.arange(16.0).reshape(2, 8)


def _pieces(framework, name: str):
    leaf = framework.tensor(_VALUES, requires_grad=True)
    return leaf, _CUTS[name](leaf * 1)


def _described(pieces) -> list:
    return [(piece.grad_fn.name(), piece.output_nr, tuple(piece.shape), piece._version, piece.is_leaf,
             piece._base is not None) for piece in pieces]


@needs_torch
@pytest.mark.parametrize("name", sorted(_CUTS))
def test_pieces_are_pytorchs_outputs(name):
    """One node, the output numbers in order, views only where PyTorch makes views."""
    _, ours = _pieces(retrograd, name)
    _, theirs = _pieces(torch, name)
    assert _described(ours) == _described(theirs)
    assert len({id(piece.grad_fn) for piece in ours}) == 1


@pytest.mark.parametrize("name", sorted(_CUTS))
def test_each_piece_keeps_the_metadata_of_its_own_array(name):
    """The pieces of one shape share the metadata found once; a piece of another shape (the
    last of an uneven split) gets its own."""
    _, pieces = _pieces(retrograd, name)
    for piece in pieces:
        assert piece._meta is None or piece._meta is meta_of(piece._data)


@pytest.mark.parametrize("name", ["chunk", "split", "split_with_sizes", "unbind"])
def test_views_share_their_inputs_version_counter_and_base(name):
    _, pieces = _pieces(retrograd, name)
    base = pieces[0]._base
    assert all(piece._base is base for piece in pieces)
    base.add_(1)  # (not a leaf: an in-place write is allowed, and every piece sees it)
    assert [piece._version for piece in pieces] == [1] * len(pieces)


@needs_torch
@pytest.mark.parametrize("name", ["chunk", "split", "unbind"])
def test_writing_a_view_piece_in_place_is_refused_as_pytorch(name):
    def message(framework):
        _, pieces = _pieces(framework, name)
        with pytest.raises(RuntimeError) as caught:
            pieces[1].mul_(2)
        return str(caught.value).replace("torch.", "retrograd.")

    assert message(retrograd) == message(torch)


@needs_torch
@pytest.mark.parametrize("name", sorted(_CUTS))
def test_hooks_retain_grad_and_gradients_are_pytorchs(name):
    def run(framework):
        leaf, pieces = _pieces(framework, name)
        seen = []
        pieces[0].register_hook(lambda grad: seen.append(grad.sum().item()))
        pieces[-1].retain_grad()
        total = sum((piece * (index + 1)).sum() for index, piece in enumerate(pieces[:-1]))
        (total + pieces[-1].pow(2).sum()).backward()
        return leaf.grad.numpy().tolist(), pieces[-1].grad.numpy().tolist(), seen

    assert run(retrograd) == run(torch)


@needs_torch
@pytest.mark.parametrize("name", ["unsafe_chunk", "unsafe_split"])
def test_unsafe_pieces_may_be_written_in_place(name):
    def run(framework):
        leaf, pieces = _pieces(framework, name)
        pieces[1].mul_(2)
        (pieces[1].sum() + pieces[0].sum()).backward()
        return pieces[1].grad_fn.name(), leaf.grad.numpy().tolist()

    assert run(retrograd) == run(torch)
