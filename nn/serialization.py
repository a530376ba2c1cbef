"""save / load a state_dict as an .npz archive: plain arrays only, so loading never unpickles.

The archive holds one member "<key>.npy" per key, as `np.savez` writes it. `load` reads the
members itself and strips exactly one ".npy" from each name, so every key comes back exactly
(`np.load` would confuse the keys "a" and "a.npy").
"""
import os
import zipfile

import numpy as np

from autograd_mini import Tensor

from .module import Module

_NPY_MAGIC = b"\x93NUMPY"


def save(obj, path):
    """Write a Module's state_dict (or a dict name -> array) to `path` as an .npz archive.

    The file is written at exactly `path` (no ".npz" is appended). Any str key round-trips
    through `load`, except keys with a NUL or a backslash, which zip archives change (ValueError).
    """
    state = obj.state_dict() if isinstance(obj, Module) else obj
    if not isinstance(state, dict):
        raise TypeError(f"nn.save: expected an nn.Module or a dict of arrays, got "
                        f"{type(obj).__name__}")
    arrays = {}
    for k, v in state.items():
        a = np.asarray(v.data if isinstance(v, Tensor) else v)
        if not isinstance(k, str) or a.dtype.kind not in "biufc":
            raise TypeError(f"nn.save: entry {k!r} must map a str to a numeric array, got "
                            f"dtype {a.dtype}")
        if "\x00" in k or "\\" in k:
            raise ValueError(f"nn.save: key {k!r} cannot be stored exactly (a zip archive cuts "
                             f"names at NUL and turns '\\' into '/' on Windows); rename it")
        arrays[k] = a
    # What np.savez does, minus its keyword arguments that could clash with a key ("file").
    with zipfile.ZipFile(path, "w") as zf:
        for k, a in arrays.items():
            with zf.open(k + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, a, allow_pickle=False)


def load(path):
    """Read a state_dict written by `save`: a dict name -> ndarray, keys in the saved order.

    A file that is not such an archive (another format, corrupted, truncated, holding pickled
    objects) raises ValueError naming the path; a missing file raises FileNotFoundError.
    """
    def refuse(why):
        return ValueError(f"nn.load: cannot read {os.fspath(path)!r}: {why}")

    with open(path, "rb") as f:  # FileNotFoundError, IsADirectoryError as they are
        start = f.read(20)
        if start.startswith(_NPY_MAGIC):
            raise refuse("it holds a single array (written by np.save), not a state_dict; "
                         "read it with np.load(path)")
        if not zipfile.is_zipfile(f):
            seen = f"it starts with {start!r}" if start else "it is empty"
            raise refuse(f"it is not a file written by nn.save ({seen}; not an .npz archive, "
                         f"or a truncated one); pass the path of a file that nn.save wrote")
        try:
            zf = zipfile.ZipFile(f)
        except Exception as err:  # a damaged directory at the end of the archive
            raise refuse(f"the archive is corrupted ({err}); save the model again") from err
        state = {}
        with zf:
            for name in zf.namelist():
                if not name.endswith(".npy"):
                    raise refuse(f"its member {name!r} is not an array: the file was not written "
                                 f"by nn.save (nor np.savez)")
                try:
                    with zf.open(name) as member:
                        state[name[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
                except Exception as err:  # zipfile, zlib and numpy format errors alike
                    raise refuse(f"its entry {name[:-4]!r} is not a numeric array: it is "
                                 f"corrupted or truncated, or holds pickled Python objects, "
                                 f"which nn.load never reads (nn.save writes numeric arrays "
                                 f"only)") from err
        return state
