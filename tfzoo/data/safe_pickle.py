"""Read the pickles of the CIFAR python releases without running code from the file.

A pickle can call any importable function. The CIFAR files need only builtins and
plain numeric numpy arrays, so every global is refused except the four that rebuild
such arrays, and those map to stand-ins here: numpy's own reconstructors never see
the file's data, and arrays are rebuilt with ``np.frombuffer`` from a checked dtype.

A pickle also declares sizes, and CPython's unpickler allocates what an opcode declares
before reading it: 22 bytes claiming a 2^62-byte buffer raise ``MemoryError``, and a memo
index of 2^32 - 1 asks for a 32 GiB table. So every opcode is first parsed (``pickletools``),
which checks each declared length against the bytes that follow it; frames must fit in the
file, and a memo index may not exceed the number of opcodes before it. Only then is the file
unpickled.
"""

import io
import math
import pickle
import pickletools

import numpy as np

from tfzoo.data.specs import DataError

_NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats: no objects, no structs


class _Refused(pickle.UnpicklingError):
    pass


class _DType:
    """Stand-in for ``numpy.dtype(code, align, copy)`` and its ``__setstate__``."""

    def __init__(self, code, align=False, copy=False):
        if isinstance(code, bytes):
            code = code.decode("ascii")
        if not isinstance(code, str):
            raise _Refused(f"dtype from a {type(code).__name__}")
        dtype = np.dtype(code)
        if dtype.kind not in _NUMERIC_KINDS or dtype.fields or dtype.subdtype:
            raise _Refused(f"dtype {code!r} (only plain numeric arrays are read)")
        self.dtype = dtype

    def __setstate__(self, state):
        _version, byteorder, subarray, names, fields = state[:5]
        if subarray is not None or names is not None or fields is not None:
            raise _Refused("structured dtype")
        if isinstance(byteorder, bytes):
            byteorder = byteorder.decode("ascii")
        if byteorder in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(byteorder)


class _Array:
    """Stand-in for ``numpy.ndarray``; ``__setstate__`` rebuilds the data as ``self.array``."""

    def __setstate__(self, state):
        _version, shape, dtype, fortran_order, data = state if len(state) == 5 else (1, *state)
        if not isinstance(dtype, _DType) or not isinstance(data, bytes):
            raise _Refused("array state that is not numeric bytes")
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _Refused(f"array shape {shape!r}")
        count = math.prod(shape)  # Python integers: a product that overflows int64 cannot wrap to len(data)
        if count * dtype.dtype.itemsize != len(data):
            raise _Refused(f"array of shape {tuple(shape)} with {len(data)} bytes of data")
        order = "F" if fortran_order else "C"
        array = np.frombuffer(data, dtype=dtype.dtype).reshape(shape, order=order)
        self.array = array.astype(array.dtype.newbyteorder("="), copy=True)


def _reconstruct(subtype, shape, code):
    if subtype is not _Array:
        raise _Refused(f"array of type {getattr(subtype, '__name__', subtype)!r}")
    return _Array()


def _encode(text, encoding="utf-8", errors="strict"):
    # Protocol-2 pickles written by Python 3 store bytes as _codecs.encode(str, "latin1").
    if encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _Array,
    ("numpy", "dtype"): _DType,
    ("_codecs", "encode"): _encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise _Refused(f"refused global {module}.{name}")
        return _ALLOWED[(module, name)]


def _unwrap(value):
    if isinstance(value, _Array):
        if not hasattr(value, "array"):
            raise _Refused("array without data")
        return value.array
    if isinstance(value, _DType):
        return value.dtype
    return value


_MEMO_PUTS = ("PUT", "BINPUT", "LONG_BINPUT")


def _check_sizes(content):
    """Parses every opcode of the pickle ``content`` without building anything; ValueError at the
    first length, frame or memo index the file cannot back with its own bytes."""
    for count, (opcode, arg, position) in enumerate(pickletools.genops(content), 1):  # checks declared lengths
        if opcode.name == "FRAME" and arg > len(content) - position:
            raise ValueError(f"a frame of {arg} bytes at byte {position}, past the end of the {len(content)}-byte file")
        # A pickler numbers memo entries from 0 (Python 3) or 1 (Python 2's cPickle), one per opcode at most.
        if opcode.name in _MEMO_PUTS and not (isinstance(arg, int) and 0 <= arg <= count):
            raise ValueError(f"memo index {arg!r} at byte {position}, opcode {count} of the file")


def load_pickle_dict(path):
    """The dict pickled in ``path`` (keys as bytes), with numpy arrays; ``DataError`` otherwise."""
    try:
        with open(path, "rb") as f:
            content = f.read()
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        _check_sizes(content)
        obj = _RestrictedUnpickler(io.BytesIO(content), encoding="bytes").load()
    except _Refused as e:
        raise DataError(f"{path}: {e}; not reading this file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError,
            OverflowError) as e:
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise DataError(f"{path}: truncated or corrupt pickle ({reason})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a pickled dict, found {type(obj).__name__}")
    return {key: _unwrap(value) for key, value in obj.items()}
