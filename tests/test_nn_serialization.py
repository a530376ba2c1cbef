"""nn.save / nn.load: round trips, exact paths, no pickle, and clear errors on bad files."""
import pickle
import re
import zipfile

import numpy as np
import pytest

import nn


@pytest.fixture
def model():
    return nn.MLP([4, 16, 3], activation="relu", rng=0)


def test_save_load_round_trip_into_a_fresh_model(tmp_path, model):
    path = tmp_path / "model.npz"
    nn.save(model, path)
    sd = nn.load(path)
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for k, v in model.state_dict().items():
        assert sd[k].dtype == v.dtype and np.array_equal(sd[k], v)
    fresh = nn.MLP([4, 16, 3], activation="relu", rng=1)
    fresh.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_save_a_plain_dict_at_exactly_the_given_path(tmp_path):
    path = str(tmp_path / "weights.bin")  # no ".npz" gets appended
    sd = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "file": np.ones(1)}
    nn.save(sd, path)
    out = nn.load(path)
    assert out.keys() == sd.keys() and out["a"].dtype == np.float32
    np.testing.assert_array_equal(out["a"], sd["a"])
    with np.load(path, allow_pickle=False) as z:  # a standard .npz archive
        assert sorted(z.files) == ["a", "file"]


def test_save_rejects_what_cannot_be_stored_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="'a'"):
        nn.save({"a": np.array([{}], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="Module or a dict"):
        nn.save([np.ones(2)], tmp_path / "x.npz")


def corruptions(data):
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF
    return {"truncated": data[: len(data) // 2], "empty": b"", "garbage": bytes(range(256)) * 4,
            "flipped byte": bytes(flipped), "pickle": pickle.dumps({"0.weight": np.ones(2)})}


@pytest.mark.parametrize("kind", ["truncated", "empty", "garbage", "flipped byte", "pickle"])
def test_load_of_a_corrupted_file_raises_a_clear_error_naming_the_path(tmp_path, model, kind):
    good = tmp_path / "good.npz"
    nn.save(model, good)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(corruptions(good.read_bytes())[kind])
    with pytest.raises(ValueError, match=r"nn.load: cannot read .*bad\.npz"):
        nn.load(bad)


def test_load_of_a_single_array_file_or_a_missing_file(tmp_path):
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(ValueError, match="single array"):
        nn.load(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.npz")


def test_an_archive_with_a_pickled_member_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"x": 1}], dtype=object))  # numpy pickles object arrays
    with pytest.raises(ValueError, match="nn.load"):
        nn.load(path)
    with zipfile.ZipFile(path) as zf:  # the member really is there: refused, not missed
        assert zf.namelist() == ["w.npy"]


def test_loading_a_file_from_another_architecture_names_the_problem(tmp_path, model):
    nn.save(model, tmp_path / "m.npz")
    other = nn.MLP([4, 8, 3], activation="relu")
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(16, 4\).*\(8, 4\)"):
        other.load_state_dict(nn.load(tmp_path / "m.npz"))
    deeper = nn.MLP([4, 16, 16, 3])
    with pytest.raises(ValueError, match=r"missing keys \['4.weight', '4.bias'\]"):
        deeper.load_state_dict(nn.load(tmp_path / "m.npz"))


# -- keys that look like archive member names (issue 10, item 14) --------------------------------

TRICKY_KEYS = ["a", "a.npy", "a.npy.npy", ".npy", "", "b.c", "b/c", "b/c.npy", "/lead", "dir/",
               "..", "x y", "ü.weight"]


def test_every_key_round_trips_exactly_even_if_it_ends_in_npy(tmp_path):
    # each key gets its own array (distinct values, shapes and dtypes), so a mix-up shows
    sd = {k: np.full((i + 1,), i, dtype=[np.float64, np.float32, np.int64][i % 3])
          for i, k in enumerate(TRICKY_KEYS)}
    nn.save(sd, tmp_path / "keys.npz")
    out = nn.load(tmp_path / "keys.npz")
    assert list(out) == TRICKY_KEYS
    for i, k in enumerate(TRICKY_KEYS):
        assert out[k].dtype == sd[k].dtype and out[k].tolist() == [i] * (i + 1), k


@pytest.mark.parametrize("key", ["a\x00b", "a\\b"])
def test_keys_a_zip_archive_would_change_are_refused(tmp_path, key):
    # zip truncates a name at NUL, and turns a backslash into "/" on Windows
    with pytest.raises(ValueError, match=re.escape(f"nn.save: key {key!r}") + ".*rename"):
        nn.save({key: np.ones(1)}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


# -- clear messages for common slips (issue 10) --------------------------------------------------

def test_load_of_a_text_file_says_it_is_not_an_nn_save_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("0.weight = [1, 2, 3]\n")
    with pytest.raises(ValueError) as err:
        nn.load(path)
    msg = str(err.value)
    assert str(path) in msg and "not a file written by nn.save" in msg
    assert "'0.weight = [1, 2" in msg  # shows what the file starts with
    assert "pickle" not in msg  # never suggests unpickling an unknown file


def test_load_of_an_archive_with_a_pickled_member_does_not_suggest_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"evil\.npz.*'w'") as err:
        nn.load(path)
    assert "allow_pickle" not in str(err.value) and "pickle.load" not in str(err.value)


def test_load_of_a_zip_archive_that_is_not_npz_names_the_member(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match=r"other\.zip.*'archive/data\.pkl'.*not written by nn"):
        nn.load(path)
