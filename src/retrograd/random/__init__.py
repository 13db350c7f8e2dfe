"""PyTorch's CPU random numbers, bit for bit (`retrograd.random`, as `torch.random`).

A seeded program draws here the numbers PyTorch draws on the CPU: the same generator, the
same seeding, the same state bytes, and the same transform from raw bits to each
distribution, including the rounding of every floating-point step.

Note [PyTorch's CPU generator]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
PyTorch's CPU generator is the 32-bit Mersenne Twister (mt19937), seeded with the classic
`init_genrand` recurrence from the low 32 bits of the 64-bit seed. Its raw stream is the
standard mt19937 stream, so NumPy's `MT19937` bit generator produces it: we give it the
seeded key (NumPy's legacy `RandomState(seed)` seeding is that same recurrence) and read
words with `random_raw`, in blocks. A 64-bit draw takes two words, the first one high.
A fresh `Generator()` is seeded with 67280421310721; the default generator of a process
starts from a seed drawn from the operating system (so `initial_seed()` differs between
runs until `manual_seed` is called). The generator also caches the second value of the
scalar Box-Muller pair (see `_normal_scalar`), and that cache is part of its state.

Note [PyTorch's transforms]
~~~~~~~~~~~~~~~~~~~~~~~~~~~
From raw words to values, as PyTorch's CPU kernels do it (one draw per element, in the
order of the elements in memory):

- uniform on [from, to): float32 takes the low 24 bits of one word, float64 the low 53
  bits of a 64-bit draw, times 2^-24 (2^-53); then x * (to - from) + from, computed with
  a fused multiply-add in the element's precision (PyTorch's kernels are compiled for
  AVX2/AVX-512, where the compiler fuses it). A value that rounds up to `to` becomes
  `from`.
- normal: tensors of 16 or more contiguous elements use a vectorised Box-Muller on blocks
  of 16 uniforms u (the first 8 give the radius sqrt(-2 log(1 - u)), the last 8 the angle
  2 pi u; outputs are radius * cos in the first half and radius * sin in the second); a
  size that is not a multiple of 16 draws 16 fresh uniforms for the last 16 elements and
  overwrites them. float32 runs this with the Cephes-style single-precision log and
  sincos PyTorch's AVX2 kernel uses (`_log_f32`, `_sincos_f32`); float64 with the C
  library's log, cos and sin. Smaller or non-contiguous tensors draw one double-precision
  Box-Muller pair per two elements (radius from log1p(-u2), angle from u1), returning the
  cosine value and caching the sine value for the next draw.
- random integers in [low, high): (word % range) + low, with a 64-bit draw when
  range >= 2^28. randperm: a Fisher-Yates shuffle where step i swaps i with
  i + word % (n - i).
- bernoulli(p): a double uniform < p for a number p; for a tensor of probabilities, a
  uniform in the probabilities' precision. exponential: -log1p(-u) / lambda in double.
- multinomial with replacement: per row, the float cumulative sum of the weights divided
  by its total (the last set to 1), then for each sample a double uniform and the first
  bucket whose cumulative value is >= it. Without replacement: the indices of the
  largest weights / Exp(1) draws (argmax for one sample, top-k otherwise).

- float16 values are computed in float32 and rounded; its vectorised normal draws only
  the uniforms of whole 16-blocks before the tail's 16.
- Ties among top-k scores come out in the order of PyTorch's C++ sort (`_stl_order`).

The reference is PyTorch on x86-64 with its AVX2 or AVX-512 kernels (any x86 CPU of the
last decade; machines without AVX2 run kernels that fuse nothing and use the C library's
float log/sin/cos, so their float32 normals and scaled uniforms differ in the last bit).
The C library's double log and log1p are called through `math` (NumPy's own SIMD log
differs from it in the last bit for about 0.3% of inputs); NumPy's cos and sin are used
when they agree with `math`'s on a fixed sample (checked once).

- gamma, binomial and Poisson draws: PyTorch's rejection samplers, element by element
  (`rejection`: Notes [PyTorch's gamma draws], [PyTorch's binomial draws] and
  [PyTorch's Poisson draws]).

The package's modules, in the order their ops enter the op table: generator, distributions,
rejection, functions.
"""

# isort: off
from . import generator
from . import distributions
from . import rejection
from . import functions
# isort: on
from .distributions import (
    _F32,
    _LOG_POLYNOMIAL,
    _ROWS_PER_CHUNK,
    _TWO_PI,
    _bernoulli_scalar,
    _bernoulli_tensor,
    _box_muller_16,
    _check_floating,
    _cos_sin,
    _double_uniform,
    _exponential,
    _full_range,
    _integers,
    _libm,
    _log_f32,
    _multinomial,
    _normal,
    _normal_scalar,
    _normal_vectorised,
    _numpy_trig_matches_libm,
    _opmath,
    _permutation,
    _shuffle_result,
    _sincos_f32,
    _stable_order,
    _top_k,
    _uniform,
    _unit_float32,
    _unit_float64,
)
from .functions import (
    _dropout_mask,
    _fill,
    _memory_order,
    _number,
    _pop_from,
    _register_ops,
    _rrelu_noise,
    _write_out,
    bernoulli,
    bernoulli_,
    binomial,
    cauchy_,
    exponential_,
    geometric_,
    log_normal_,
    multinomial_function,
    normal_,
    normal_function,
    poisson,
    random_,
    uniform_,
)
from .generator import (
    _HALFWAY_BITS,
    _LOW_29_BITS,
    _STATE_SIZE,
    _U64,
    _WORDS,
    DEFAULT_SEED,
    Generator,
    _as_seed,
    _fma32,
    _fma64,
    _generator,
    _odd_nudge,
    _seeded_key,
    _split,
    default_generator,
    fork_rng,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

# The modules of this package, in import order.
MODULES = (generator, distributions, rejection, functions)

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]
