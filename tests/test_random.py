"""PyTorch's CPU random numbers, bit for bit: the generator, its state, and every transform.

Tests marked `needs_torch` compare with PyTorch itself (skipped where it is not installed);
the others pin values PyTorch 2.13 draws (read once from it), so they check the streams
without it.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import retrograd
from retrograd import random as rng

try:
    import torch
except ImportError:  # the comparisons with PyTorch skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SEEDS = (0, 1, 42, 2**32 + 5, 123456789)
SIZES = (1, 2, 3, 7, 15, 16, 17, 31, 33, 100, 1000, 4097, 100_000)
DTYPES = ("float32", "float64")


def _same(ours, theirs) -> None:
    """Bit-identical values (NaNs included), same shape and dtype."""
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    ours, theirs = (np.ascontiguousarray(values).reshape(-1).view(np.uint8) for values in (ours, theirs))
    differing = np.flatnonzero(ours != theirs)
    assert differing.size == 0, f"{differing.size} bytes differ, first at byte {differing[0]}"


def _both(seed, draw):
    """`draw(library)` after seeding both libraries with `seed`."""
    torch.manual_seed(seed)
    retrograd.manual_seed(seed)
    return draw(retrograd), draw(torch)


# ---------------------------------------------------------------------------
# Values PyTorch 2.13 draws (no PyTorch needed)


def test_seeded_streams_are_pytorchs():
    retrograd.manual_seed(0)
    assert retrograd.rand(3).tolist() == [0.49625658988952637, 0.7682217955589294, 0.08847743272781372]
    assert retrograd.randn(4).tolist() == [
        0.3643381893634796, 0.13439632952213287, 0.16421625018119812, 0.3057610094547272
    ]
    assert retrograd.randn(3, dtype=retrograd.float64).tolist() == [
        0.20998091995432266, 0.9056261299825517, 0.6035430218293704
    ]
    assert retrograd.randint(0, 10, (6,)).tolist() == [3, 6, 9, 1, 4, 4]
    assert retrograd.randperm(10).tolist() == [1, 8, 3, 4, 2, 6, 5, 9, 0, 7]
    assert retrograd.empty(8).bernoulli_(0.5).tolist() == [1, 0, 0, 1, 0, 1, 0, 1]
    assert retrograd.multinomial(retrograd.tensor([0.1, 0.2, 0.7]), 5, True).tolist() == [2, 2, 2, 2, 1]
    assert retrograd.randn(20).tolist()[-3:] == [-0.9565008282661438, 0.03353185951709747, 0.7100865840911865]


def test_state_bytes_are_pytorchs():
    retrograd.manual_seed(0)
    state = retrograd.get_rng_state()
    assert state.dtype is retrograd.uint8 and state.shape == (5056,)
    assert hashlib.md5(state.numpy().tobytes()).hexdigest() == "3a1f312f0e98035650d6a295a704c2c1"
    retrograd.rand(1000)
    retrograd.randn(5)
    after = retrograd.get_rng_state().numpy().tobytes()
    assert hashlib.md5(after).hexdigest() == "dbc05d57a4b10692eef5de3368a0fa2e"


def test_generator_object_and_layers_draw_pytorchs_values():
    generator = retrograd.Generator().manual_seed(2**40 + 3)
    assert retrograd.randn(17, generator=generator).tolist()[-2:] == [-0.1468081772327423, 0.4851140081882477]
    assert retrograd.rand(2, dtype=retrograd.float64, generator=generator).tolist() == [
        0.412415294100802, 0.03165924990293745
    ]
    retrograd.manual_seed(0)
    layer = retrograd.nn.Linear(3, 2)
    assert layer.weight.tolist() == [
        [-0.004322517663240433, 0.3097158372402191, -0.4751853346824646],
        [-0.4248946011066437, -0.2223689705133438, 0.15482072532176971],
    ]
    assert layer.bias.tolist() == [-0.011439144611358643, 0.45777493715286255]
    retrograd.manual_seed(0)
    dropped = retrograd.nn.functional.dropout(retrograd.ones(10), 0.5)
    assert dropped.tolist() == [0, 0, 2, 0, 0, 0, 2, 2, 0, 2]


def test_linspace_is_pytorchs_to_the_bit():
    values = retrograd.linspace(-math.pi, math.pi, 2000).numpy().tobytes()
    assert hashlib.md5(values).hexdigest() == "4b54bf8a60e58bd0190076b7b93a13b8"
    assert retrograd.linspace(0, 1, 1).tolist() == [0.0]
    assert retrograd.linspace(0, 1, 0).shape == (0,)
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        retrograd.linspace(0, 1, -1)


# ---------------------------------------------------------------------------
# The generator itself


def _init_genrand(seed: int) -> list[int]:
    """The reference mt19937 seeding, written out."""
    state = [seed & 0xFFFF_FFFF]
    for index in range(1, 624):
        previous = state[-1]
        state.append((1812433253 * (previous ^ (previous >> 30)) + index) & 0xFFFF_FFFF)
    return state


@pytest.mark.parametrize("seed", [0, 5489, 2**32 - 1, 2**32 + 17, 67280421310721])
def test_seeding_is_init_genrand_of_the_low_32_bits(seed):
    assert rng._seeded_key(seed).tolist() == _init_genrand(seed)


def test_a_fresh_generator_uses_pytorchs_default_seed():
    assert retrograd.Generator().initial_seed() == 67280421310721


def test_initial_seed_differs_between_processes_until_seeded():
    program = "import retrograd; print(retrograd.initial_seed())"
    source = str(Path(retrograd.__file__).resolve().parents[1])
    environment = {**os.environ, "PYTHONPATH": source}
    seeds = {
        subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                       check=True, env=environment).stdout
        for _ in range(2)
    }
    assert len(seeds) == 2
    retrograd.manual_seed(7)
    assert retrograd.initial_seed() == 7


def test_manual_seed_wraps_negative_seeds_and_refuses_overflow():
    assert retrograd.manual_seed(-1).initial_seed() == 2**64 - 1
    for seed in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match="Overflow when unpacking long long"):
            retrograd.manual_seed(seed)


def test_seed_reseeds_from_the_system():
    generator = retrograd.Generator()
    first = generator.seed()
    assert generator.initial_seed() == first
    assert generator.seed() != first


def test_state_round_trips_including_the_cached_normal():
    generator = retrograd.Generator().manual_seed(3)
    retrograd.randn(1, generator=generator)  # leaves the second value of a pair cached
    state = generator.get_state()
    expected = retrograd.randn(5, generator=generator)
    generator.set_state(state)
    _same(retrograd.randn(5, generator=generator), expected)


def test_set_state_refuses_wrong_sizes_and_dtypes():
    with pytest.raises(RuntimeError, match="size 5056 but found the input RNG state size to be 10"):
        retrograd.set_rng_state(retrograd.zeros(10, dtype=retrograd.uint8))
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        retrograd.set_rng_state(retrograd.zeros(5056))


def test_fork_rng_restores_the_default_state():
    retrograd.manual_seed(11)
    with retrograd.random.fork_rng():
        retrograd.rand(100)
    after = retrograd.rand(3)
    retrograd.manual_seed(11)
    _same(after, retrograd.rand(3))


def test_generator_argument_leaves_the_default_stream_alone():
    retrograd.manual_seed(1)
    expected = retrograd.rand(4)
    retrograd.manual_seed(1)
    retrograd.randn(50, generator=retrograd.Generator())
    _same(retrograd.rand(4), expected)


# ---------------------------------------------------------------------------
# Pieces checked against exact arithmetic (no PyTorch needed)


def test_fused_multiply_add_emulation_rounds_once():
    generator = np.random.default_rng(5)
    a, b, c = (generator.standard_normal(3000) * 2.0 ** generator.integers(-30, 30, 3000)
               for _ in range(3))
    exact64 = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c, strict=True)]
    _same(rng._fma64(a, b, c), np.array(exact64))
    a32, b32, c32 = (values.astype(np.float32) for values in (a, b, c))
    exact32 = [_round_to_float32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
               for x, y, z in zip(a32, b32, c32, strict=True)]
    _same(rng._fma32(a32, b32, c32), np.array(exact32, np.float32))


def _round_to_float32(value: Fraction) -> np.float32:
    """Round an exact rational to the nearest float32 (ties to even), without double rounding."""
    candidate = np.float32(float(value))
    below = np.nextafter(candidate, np.float32(-np.inf))
    above = np.nextafter(candidate, np.float32(np.inf))
    return min((below, candidate, above),
               key=lambda x: (abs(Fraction(float(x)) - value), int(np.array(x).view(np.int32)) & 1))


def test_fma32_rounds_a_double_halfway_case_correctly():
    # a * b = 1 + 2^-24 exactly (2^24 + 1 = 24929 * 673): halfway between two floats, so
    # the tiny c decides the rounding, and a double sum would have lost it.
    a, b, c = np.float32(24929 * 2.0**-12), np.float32(673 * 2.0**-12), np.float32(2.0**-80)
    assert rng._fma32(a, b, c) == np.float32(1 + 2**-23)
    assert rng._fma32(a, b, -c) == np.float32(1)


@pytest.mark.parametrize("n", [2, 3, 10, 255, 256, 257, 1000, 5000])
def test_vectorised_fisher_yates_equals_the_loop(n):
    generator = retrograd.Generator().manual_seed(n)
    state = generator.get_state()
    words = generator._words(n - 1).astype(np.int64)
    order = list(range(n))
    for step in range(n - 1):
        target = step + int(words[step]) % (n - step)
        order[step], order[target] = order[target], order[step]
    generator.set_state(state)
    assert rng._permutation(generator, n).tolist() == order


# ---------------------------------------------------------------------------
# Against PyTorch: many seeds, sizes from 1 to 10^5, both dtypes


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_rand_randn_normal_uniform_exponential_match_pytorch(seed, dtype):
    for size in SIZES:
        for draw in (
            lambda lib, size=size: lib.rand(size, dtype=getattr(lib, dtype)),
            lambda lib, size=size: lib.randn(size, dtype=getattr(lib, dtype)),
            lambda lib, size=size: lib.empty(size, dtype=getattr(lib, dtype)).normal_(0.7, 3.1),
            lambda lib, size=size: lib.empty(size, dtype=getattr(lib, dtype)).uniform_(-2.3, 5.9),
            lambda lib, size=size: lib.empty(size, dtype=getattr(lib, dtype)).exponential_(2.5),
        ):
            _same(*_both(seed, draw))


@needs_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_integer_draws_match_pytorch(seed):
    for size in SIZES:
        _same(*_both(seed, lambda lib, size=size: lib.randint(-5, 1000, (size,))))
        _same(*_both(seed, lambda lib, size=size: lib.randint(0, 2**40, (size,))))  # 64-bit draws
        _same(*_both(seed, lambda lib, size=size: lib.randint(7, 2**30, (size,))))  # ranges >= 2^28 too
        _same(*_both(seed, lambda lib, size=size: lib.randperm(size)))
        _same(*_both(seed, lambda lib, size=size: lib.empty(size).bernoulli_(0.37)))
    _same(*_both(seed, lambda lib: lib.empty(6, dtype=lib.int64).random_()))
    _same(*_both(seed, lambda lib: lib.empty(6, dtype=lib.int32).random_()))
    _same(*_both(seed, lambda lib: lib.empty(6).random_(10)))


@needs_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_sequences_and_the_cached_normal_match_pytorch(seed):
    def sequence(lib):
        return (lib.randn(5), lib.randn(3, dtype=lib.float64), lib.randn(40), lib.randn(1),
                lib.rand(2), lib.empty(3, 4).t().normal_(), lib.empty(8, 9)[:, ::2].uniform_(),
                lib.get_rng_state())

    for ours, theirs in zip(*_both(seed, sequence), strict=True):
        _same(ours, theirs)


@needs_torch
@pytest.mark.parametrize("seed", (0, 3))
def test_log_normal_cauchy_and_geometric_match_pytorch(seed):
    for fill in (
        lambda lib: lib.empty(9).log_normal_(),
        lambda lib: lib.empty(40, dtype=lib.float64).log_normal_(0.3, 0.5),
        lambda lib: (lib.randn(1), lib.empty(5).log_normal_())[1],  # takes the cached normal
        lambda lib: lib.empty(33).cauchy_(),
        lambda lib: lib.empty(9, dtype=lib.float64).cauchy_(1, 2),
        lambda lib: lib.empty(50).geometric_(0.3),
        lambda lib: lib.empty(50, dtype=lib.int64).geometric_(0.7),
    ):
        _same(*_both(seed, fill))


@needs_torch
@pytest.mark.parametrize("seed", (0, 3))
def test_strided_and_half_precision_targets_match_pytorch(seed):
    for fill in (
        lambda lib: lib.empty(10, 20).t().normal_(),  # non-contiguous: scalar path, memory order
        lambda lib: lib.empty(10, 20)[:, ::2].normal_(1, 2),
        lambda lib: lib.empty(4, 5, 6).permute(2, 0, 1).uniform_(),
        lambda lib: lib.empty(10, 20, dtype=lib.float64).t().bernoulli_(0.3),
        lambda lib: lib.empty(3, 40).t().exponential_(),
        lambda lib: lib.zeros(5, 8).t().bernoulli_(lib.rand(8, 5)),
        lambda lib: lib.empty(5, 5).random_(3, 9),
        lambda lib: lib.empty(200, dtype=lib.float16).normal_(),  # whole blocks, then the tail
        lambda lib: lib.empty(7, dtype=lib.float16).normal_(),
        lambda lib: lib.rand(100, dtype=lib.float16),
    ):
        _same(*_both(seed, fill))


@needs_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_state_is_interchangeable_with_pytorchs(seed):
    torch.manual_seed(seed)
    torch.randn(7)
    retrograd.set_rng_state(retrograd.tensor(torch.get_rng_state().numpy()))
    _same(retrograd.randn(33), torch.randn(33))
    _same(retrograd.get_rng_state(), torch.get_rng_state())
    for count in (624, 625):
        _same(*_both(seed, lambda lib, count=count: (lib.rand(count), lib.get_rng_state())[1]))
    generator = torch.Generator().manual_seed(seed)
    ours = retrograd.Generator().manual_seed(seed)
    _same(ours.get_state(), generator.get_state())
    _same(retrograd.randperm(300, generator=ours), torch.randperm(300, generator=generator))


@needs_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_bernoulli_multinomial_and_normal_functions_match_pytorch(seed):
    weights = np.random.default_rng(seed).random((4, 50)).astype(np.float32)
    for replacement, counts in ((True, (1, 5, 500)), (False, (1, 5, 50))):
        for count in counts:
            def sample(lib, count=count, replacement=replacement):
                return lib.multinomial(lib.tensor(weights), count, replacement)

            def sample_double(lib, count=count, replacement=replacement):
                return lib.multinomial(lib.tensor(weights[0].astype(np.float64)), count, replacement)

            _same(*_both(seed, sample))
            _same(*_both(seed, sample_double))
    _same(*_both(seed, lambda lib: lib.bernoulli(lib.tensor(weights))))
    _same(*_both(seed, lambda lib: lib.bernoulli(lib.tensor(weights.astype(np.float64)))))
    _same(*_both(seed, lambda lib: lib.normal(lib.tensor(weights), 2.0)))
    _same(*_both(seed, lambda lib: lib.normal(1.5, lib.tensor(weights))))
    _same(*_both(seed, lambda lib: lib.normal(lib.tensor(weights), lib.tensor(weights))))
    _same(*_both(seed, lambda lib: lib.normal(2.0, 3.0, (3, 7))))


def test_equal_values_come_out_in_pytorchs_topk_order():
    from retrograd._stl_order import topk_order

    assert topk_order([0.0] * 6, 4) == [3, 5, 4, 0]
    assert topk_order([1.0, 2, 2, 1, 0, 2, 1], 3) == [2, 5, 1]
    assert topk_order([0.0] * 40, 30) == [26, 10, 2, 1, 3, 6, 7, 8, 9, 5, 21, 22, 23, 24, 25, 20,
                                          27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 4]
    assert topk_order([0.0] * 200, 2) == [0, 1]  # k * 64 <= n: the heap-select branch


@needs_torch
def test_topk_order_of_ties_matches_pytorch():
    from retrograd._stl_order import topk_order

    generator = np.random.default_rng(0)
    for _ in range(300):
        size = int(generator.integers(1, 300))
        count = int(generator.integers(1, size + 1))
        values = generator.integers(0, int(generator.integers(1, 6)), size).astype(np.float32)
        assert topk_order(values.tolist(), count) == torch.topk(torch.tensor(values), count).indices.tolist()


@needs_torch
@pytest.mark.parametrize("seed", (0, 1, 2, 3))
def test_multinomial_over_zero_weights_matches_pytorch(seed):
    for weights in ([0.5, 0.0, 0.5, 0.0, 0.0], [[0.0, 1.0, 0.0], [0, 0, 3.0]], [0.5] + [0.0] * 40):
        count = 4 if len(weights) == 5 else 3 if len(weights) == 2 else 30
        _same(*_both(seed, lambda lib, weights=weights, count=count: lib.multinomial(
            lib.tensor(weights), count)))


@needs_torch
@pytest.mark.parametrize("seed", (0, 7))
def test_dropout_and_rrelu_noise_match_pytorch(seed):
    for call in (
        lambda lib: lib.nn.functional.dropout(lib.ones(7, 33), 0.3),
        lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 5, 3, 3), 0.4),
        lambda lib: lib.nn.functional.dropout(lib.ones(4), 1.0),
        lambda lib: lib.nn.functional.rrelu(lib.linspace(-3, 3, 40), training=True),
    ):
        _same(*_both(seed, call))


LAYERS = (
    "nn.Linear(13, 7)", "nn.Conv2d(3, 8, 3)", "nn.Conv1d(2, 4, 5)", "nn.ConvTranspose2d(3, 2, 3)",
    "nn.Embedding(10, 4)", "nn.LSTM(5, 6, num_layers=2)", "nn.GRU(4, 3)",
    "nn.RNN(4, 3, bidirectional=True)", "nn.LSTMCell(3, 4)", "nn.Bilinear(3, 4, 5)",
    "nn.MultiheadAttention(8, 2)", "nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))",
)


@needs_torch
@pytest.mark.parametrize("layer", LAYERS)
def test_layers_start_from_pytorchs_weights(layer):
    ours, theirs = _both(3, lambda lib: eval("lib." + layer, {"lib": lib, "nn": lib.nn}))
    ours, theirs = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours) == list(theirs)
    for name in ours:
        _same(ours[name], theirs[name])


INITIALISERS = (
    "xavier_uniform_(w)", "xavier_normal_(w, gain=2.0)", "kaiming_uniform_(w, a=0.1)",
    "kaiming_normal_(w, mode='fan_out', nonlinearity='relu')", "trunc_normal_(w, std=0.02)",
    "trunc_normal_(w, mean=0.0, std=1.0, a=-0.3, b=0.4)", "sparse_(w, 0.3)", "normal_(w, 0.5, 2)",
    "uniform_(w, -1, 3)",
)


@needs_torch
@pytest.mark.parametrize("initialiser", INITIALISERS)
@pytest.mark.parametrize("shape", [(20, 30), (3, 5)])
def test_initialisers_match_pytorch(initialiser, shape):
    _same(*_both(5, lambda lib: eval("lib.nn.init." + initialiser, {"lib": lib, "w": lib.empty(*shape)})))


@needs_torch
def test_orthogonal_draws_pytorchs_sample_and_agrees_to_rounding():
    ours, theirs = _both(5, lambda lib: lib.nn.init.orthogonal_(lib.empty(20, 30)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    _same(*_both(5, lambda lib: (lib.nn.init.orthogonal_(lib.empty(20, 30)), lib.rand(3))[1]))


@needs_torch
@pytest.mark.parametrize("seed", (0, 7))
def test_data_loading_order_matches_pytorch(seed):
    def dataset(lib):
        return lib.utils.data.TensorDataset(lib.arange(23))

    def epochs(lib):
        loader = lib.utils.data.DataLoader(dataset(lib), batch_size=5, shuffle=True)
        return [batch[0].tolist() for _ in range(2) for batch in loader], lib.rand(3).tolist()

    assert _both(seed, epochs)[0] == _both(seed, epochs)[1]

    def unshuffled(lib):  # a loader draws its workers' base seed at every iter(), as PyTorch's
        loader = lib.utils.data.DataLoader(dataset(lib), batch_size=3)
        next(iter(loader))
        first = lib.rand(2).tolist()
        list(loader)
        return first, lib.rand(2).tolist()

    assert _both(seed, unshuffled)[0] == _both(seed, unshuffled)[1]
    for sampler in (
        lambda lib: list(lib.utils.data.DataLoader(
            dataset(lib), batch_size=4, shuffle=True, generator=lib.Generator().manual_seed(3))),
        lambda lib: [list(part) for part in lib.utils.data.random_split(range(30), [0.3, 0.3, 0.4])],
        lambda lib: list(lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.0, 2.0], 12)),
        lambda lib: list(lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 2.0], 3, False)),
        lambda lib: list(lib.utils.data.SubsetRandomSampler([5, 9, 11, 2])),
        lambda lib: list(lib.utils.data.RandomSampler(range(10), replacement=True, num_samples=40)),
    ):
        ours, theirs = _both(seed, sampler)
        assert str(ours).replace("retrograd", "torch") == str(theirs)


@needs_torch
@pytest.mark.parametrize(("start", "end", "steps"), [
    (-math.pi, math.pi, 2000), (0, 1, 7), (-3.3, 11.7, 12345), (3, -7, 1001), (0, 10, 1), (1e-3, 5, 2),
])
@pytest.mark.parametrize("dtype", ("float32", "float64", "int64"))
def test_linspace_matches_pytorch(start, end, steps, dtype):
    _same(retrograd.linspace(start, end, steps, dtype=getattr(retrograd, dtype)),
          torch.linspace(start, end, steps, dtype=getattr(torch, dtype)))


@needs_torch
def test_errors_match_pytorch():
    for bad in (
        lambda lib: lib.empty(3).uniform_(2, 1),
        lambda lib: lib.empty(3).normal_(0, -1),
        lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 3),
        lambda lib: lib.multinomial(lib.tensor([-1.0, 2.0]), 1, True),
        lambda lib: lib.randint(5, 5, (2,)),
        lambda lib: lib.rand(2, dtype=lib.int64),
        lambda lib: lib.randn(2, dtype=lib.int64),
        lambda lib: lib.empty(2, dtype=lib.int64).exponential_(),
    ):
        with pytest.raises(Exception) as theirs:
            bad(torch)
        with pytest.raises(type(theirs.value)) as ours:
            bad(retrograd)
        first_words = str(theirs.value).split(",")[0][:40]
        assert first_words in str(ours.value), (str(ours.value), str(theirs.value))


def test_speed_script_prints_a_row_per_call_and_size(capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import random_numbers

    assert random_numbers.main(["--sizes", "16", "--repeats", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(random_numbers.CASES)
