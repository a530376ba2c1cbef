"""save / load a state_dict as a .npz archive: plain arrays only, so loading never unpickles."""
import zipfile

import numpy as np

from autograd_mini import Tensor

from .module import Module


def save(obj, path):
    """Write a Module's state_dict (or a dict name -> array) to `path` as an .npz archive.

    The file is written at exactly `path` (no ".npz" is appended).
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
        arrays[k] = a
    # What np.savez does, minus its keyword arguments that could clash with a key ("file").
    with zipfile.ZipFile(path, "w") as zf:
        for k, a in arrays.items():
            with zf.open(k + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, a, allow_pickle=False)


def load(path):
    """Read a state_dict written by `save`: a dict name -> ndarray.

    A file that is not such an archive (corrupted, truncated, pickled) raises ValueError naming
    the path; a missing file raises FileNotFoundError.
    """
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive")
        with z:
            return {k: z[k] for k in z.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as err:  # zipfile, zlib, numpy format and pickle errors alike
        raise ValueError(f"nn.load: cannot read {path!r} as a state_dict archive written by "
                         f"nn.save (corrupted or truncated file?): {err}") from err
