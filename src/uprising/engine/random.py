"""Cheap random numbers from an explicit JAX key.

On a CPU, JAX's threefry costs about 13 ns per 32-bit value, more than the rest of a step, and
each call inside a compiled loop adds loops of its own. So a step turns its key into a *stream*
once (two 32-bit seeds, one threefry call); sub-streams come from hashing the stream with a
number (`fold`), and each element's value is a counter-based hash of its index: two rounds of
Wellons' `lowbias32` integer hash, a bijection with near-ideal avalanche. Streams stay explicit
and reproducible: the same key gives the same numbers, and there is no global random state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

_GOLDEN = np.uint32(0x9E3779B9)
_SALT = np.array([0x85EBCA6B, 0xC2B2AE35], np.uint32)


def _lowbias32(x: Array) -> Array:
    x = x ^ (x >> 16)
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> 16)


def stream(key: Array) -> Array:
    """The stream (two uint32 seeds) of a JAX key."""
    return jax.random.bits(key, (2,), jnp.uint32)


def fold(stream: Array, data: int | Array) -> Array:
    """An independent sub-stream, one per value of `data` (a group, a purpose...)."""
    d = jnp.asarray(data).astype(jnp.uint32)
    return _lowbias32(_lowbias32(stream ^ (d * _GOLDEN + _SALT)) + d)


def bits(stream: Array, shape: tuple[int, ...]) -> Array:
    counter = jax.lax.iota(jnp.uint32, int(np.prod(shape, dtype=np.int64))).reshape(shape)
    return hashed(stream, counter)


def hashed(stream: Array, counter: Array) -> Array:
    """The stream's values at the given indices: `bits(stream, shape)[i]` is `hashed(stream, i)`,
    so a caller can lay out its values in whatever order its computation runs fastest."""
    return _lowbias32(_lowbias32(counter ^ stream[0]) + stream[1])


def uniform(stream: Array, shape: tuple[int, ...]) -> Array:
    """Floats in [0, 1) with 24 random bits."""
    return (bits(stream, shape) >> 8).astype(jnp.float32) * np.float32(2.0**-24)


def below(stream: Array, shape: tuple[int, ...], n: Array | int) -> Array:
    """Integers uniform on 0..n-1 (n up to 2**24)."""
    return jnp.floor(uniform(stream, shape) * n).astype(jnp.int32)
