import hashlib
import io
import json
import pickle
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from isdarts import data
from isdarts.data.loader import BatchLoader, random_crop_flip
from isdarts.data.prepare import CIFAR10_CLASSES
from isdarts.errors import IsdartsError

# Checksums of the real CIFAR-10 (JPEG-q75 mirror) from the mirror's README.
MIRROR_SHA = {
    "train_images": "5aaf8a2cf2e577ff4dbb15e4f368840fab5aca1812bcc69682005f8dc661d466",
    "train_labels": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
    "test_images": "5a6aa8185204d80b65d3dfb540696dadd5f10d185ded226a96665d3e0fc6259f",
    "test_labels": "a054c239a40ee7f2a5745e7e4bc11a51e9cb40c98134b602c1068e6a207487c6",
}


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_real_cifar10_matches_published_checksums(cifar10):
    if not cifar10.source.startswith("mirror"):
        pytest.skip("checksums are those of the JPEG-q75 mirror")
    assert "JPEG-q75" in cifar10.source
    for key, digest in MIRROR_SHA.items():
        arr = getattr(cifar10, key)
        assert _sha(arr.astype(np.uint8) if "labels" in key else arr) == digest, key


def test_split_file_indices(cifar10):
    train_idx, valid_idx = data.load_split("cifar10")
    assert len(train_idx) == len(valid_idx) == 25000
    assert len(np.union1d(train_idx, valid_idx)) == 50000


# ---------- small fixtures in the official layouts ----------
def _images(n, side=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, 3), dtype=np.uint8)


def _pickle(path, arrays, label_key):
    x, y = arrays
    rows = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    with open(path, "wb") as f:
        pickle.dump({b"data": rows, label_key.encode(): list(map(int, y))}, f)


def test_prepare_cifar10_pickle_layout(tmp_path):
    src = tmp_path / "cifar-10-batches-py"
    src.mkdir()
    batches = [(_images(4, seed=i), np.arange(4) + i) for i in range(5)]
    for i, b in enumerate(batches, start=1):
        _pickle(src / f"data_batch_{i}", b, "labels")
    test = (_images(3, seed=9), np.array([9, 0, 1]))
    _pickle(src / "test_batch", test, "labels")
    folder = data.prepare("cifar10", tmp_path / "root", src_path=tmp_path)
    ds = data.load_dataset("cifar10", tmp_path / "root")
    assert np.array_equal(ds.train_images, np.concatenate([b[0] for b in batches]))
    assert np.array_equal(ds.train_labels, np.concatenate([b[1] for b in batches]))
    assert np.array_equal(ds.test_images, test[0]) and ds.test_labels.tolist() == [9, 0, 1]
    assert json.loads((folder / "meta.json").read_text())["source"].startswith("local:")


def test_meta_records_source_label_and_path_apart(tmp_path):
    src = tmp_path / "copy" / "cifar-10-batches-py"
    src.mkdir(parents=True)
    for i in range(1, 6):
        _pickle(src / f"data_batch_{i}", (_images(2, seed=i), np.arange(2)), "labels")
    _pickle(src / "test_batch", (_images(2, seed=7), np.arange(2)), "labels")
    folder = data.prepare("cifar10", tmp_path / "root", src_path=src)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["source"] == "local: cifar-10-batches-py" and meta["source_path"] == str(src)
    assert data.load_dataset("cifar10", tmp_path / "root").source == "local: cifar-10-batches-py"
    # a cache prepared before source_path was recorded: still read, its source a label
    meta["source"] = "mirror: CIFAR-10, JPEG-q75 mirror (/somewhere/shared/data/cifar10)"
    del meta["source_path"]
    (folder / "meta.json").write_text(json.dumps(meta))
    ds = data.load_dataset("cifar10", tmp_path / "root")
    assert ds.source == "mirror: CIFAR-10, JPEG-q75 mirror" and len(ds.train_images) == 10


@pytest.mark.parametrize(
    ("source", "label"),
    [
        (
            "mirror: CIFAR-10, JPEG-q75 mirror (/work/shared/data/cifar10)",
            "mirror: CIFAR-10, JPEG-q75 mirror",
        ),
        ("mirror: CIFAR-10, JPEG-q75 mirror", "mirror: CIFAR-10, JPEG-q75 mirror"),
        ("mirror: CIFAR-10, JPEG-q75 mirror (test)", "mirror: CIFAR-10, JPEG-q75 mirror (test)"),
        ("mirror: /work/shared/data/cifar100", "mirror: cifar100"),
        ("local: /tmp/x/cifar-10-batches-py/", "local: cifar-10-batches-py"),
        ("local: C:\\data\\cifar10", "local: cifar10"),
        ("official download", "official download"),
    ],
)
def test_source_label_drops_machine_paths(source, label):
    from isdarts.data.sources import source_label

    assert source_label(source) == label


def _image_folder_archive(tmp_path, n_per_class=2):
    """A .tar.gz of lossless PNGs laid out as train/<class>/*, test/<class>/*; returns its arrays."""
    path = tmp_path / "folder.tar.gz"
    expected = {"train": {}, "test": {}}
    with tarfile.open(path, "w:gz") as tar:
        for split in expected:
            for c, cls in enumerate(CIFAR10_CLASSES[:3]):
                for k in range(n_per_class):
                    img = _images(1, seed=100 * c + 10 * k + (split == "test"))[0]
                    name = f"{split}/{cls}/{k:04d}.png"
                    buf = io.BytesIO()
                    Image.fromarray(img).save(buf, format="PNG")
                    info = tarfile.TarInfo(name)
                    info.size = len(buf.getvalue())
                    tar.addfile(info, io.BytesIO(buf.getvalue()))
                    expected[split][name] = (img, c)
    return path, expected


def test_prepare_image_folder_with_order_file(tmp_path):
    archive, expected = _image_folder_archive(tmp_path)
    order = sorted(expected["train"], reverse=True)
    (tmp_path / "train-order.txt").write_text("\n".join(order) + "\n")
    data.prepare("cifar10", tmp_path / "root", src_path=archive)
    ds = data.load_dataset("cifar10", tmp_path / "root")
    assert np.array_equal(ds.train_images, np.stack([expected["train"][n][0] for n in order]))
    assert ds.train_labels.tolist() == [expected["train"][n][1] for n in order]
    test_names = sorted(expected["test"])  # class-major (classes here sort alphabetically)
    assert np.array_equal(ds.test_images, np.stack([expected["test"][n][0] for n in test_names]))


def test_wrong_order_file_is_a_clear_error(tmp_path):
    archive, expected = _image_folder_archive(tmp_path)
    names = sorted(expected["train"])
    (tmp_path / "train-order.txt").write_text("\n".join(names[:-1] + ["train/bird/9999.png"]))
    with pytest.raises(
        IsdartsError, match=r"train-order\.txt: line 6 names 'train/bird/9999\.png'"
    ):
        data.prepare("cifar10", tmp_path / "root", src_path=archive)
    (tmp_path / "train-order.txt").write_text("\n".join(names[:-1]))
    with pytest.raises(IsdartsError, match="5 lines, expected 6"):
        data.prepare("cifar10", tmp_path / "root", src_path=archive)
    assert not (tmp_path / "root" / "cifar10" / "meta.json").exists()


def test_truncated_archive_is_a_clear_error(tmp_path):
    archive, _ = _image_folder_archive(tmp_path)
    blob = archive.read_bytes()
    archive.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IsdartsError, match=r"folder\.tar\.gz: corrupt or truncated archive"):
        data.prepare("cifar10", tmp_path / "root", src_path=archive)
    assert not (tmp_path / "root" / "cifar10").exists() or not any(
        (tmp_path / "root" / "cifar10").iterdir()
    )


def test_corrupt_cache_is_detected(tmp_path):
    archive, _ = _image_folder_archive(tmp_path)
    folder = data.prepare("cifar10", tmp_path / "root", src_path=archive)
    with open(folder / "train_images.npy", "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    with pytest.raises(IsdartsError, match=r"train_images\.npy: sha256 does not match"):
        data.load_dataset("cifar10", tmp_path / "root")
    with pytest.raises(IsdartsError, match="cifar100 is not prepared"):
        data.load_dataset("cifar100", tmp_path / "root")


def test_prepare_cifar100_and_imagenet16_layouts(tmp_path):
    src = tmp_path / "cifar-100-python"
    src.mkdir()
    train, test = (_images(5), np.array([0, 99, 5, 6, 7])), (_images(2, seed=3), np.array([1, 2]))
    _pickle(src / "train", train, "fine_labels")
    _pickle(src / "test", test, "fine_labels")
    data.prepare("cifar100", tmp_path / "root", src_path=tmp_path)
    ds = data.load_dataset("cifar100", tmp_path / "root")
    assert ds.num_classes == 100 and ds.train_labels.tolist() == [0, 99, 5, 6, 7]
    assert np.array_equal(ds.test_images, test[0])

    im = tmp_path / "ImageNet16"
    im.mkdir()
    labels = {i: np.array([1, 120, 121, 1000]) for i in range(1, 11)}  # 1-based; keep <= 120
    for i in range(1, 11):
        _pickle(im / f"train_data_batch_{i}", (_images(4, side=16, seed=i), labels[i]), "labels")
    _pickle(im / "val_data", (_images(2, side=16, seed=50), np.array([3, 500])), "labels")
    data.prepare("ImageNet16-120", tmp_path / "root", src_path=im)
    ds = data.load_dataset("ImageNet16-120", tmp_path / "root")
    assert ds.train_images.shape == (20, 16, 16, 3) and set(ds.train_labels.tolist()) == {0, 119}
    assert ds.test_labels.tolist() == [2]


def test_bad_inputs(tmp_path):
    with pytest.raises(IsdartsError, match="unknown dataset 'mnist'"):
        data.prepare("mnist", tmp_path)
    with pytest.raises(IsdartsError, match=r"data_batch_2: missing"):
        (tmp_path / "cifar-10-batches-py").mkdir()
        _pickle(
            tmp_path / "cifar-10-batches-py" / "data_batch_1", (_images(1), np.array([0])), "labels"
        )
        data.prepare("cifar10", tmp_path / "root", src_path=tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(IsdartsError, match="data_batch_2: unreadable pickle"):
        data.prepare("cifar10", tmp_path / "root", src_path=tmp_path)


# ---------- the batch loader ----------
def test_loader_without_augmentation_equals_to_tensor_normalize():
    from torchvision import transforms

    x, y = _images(10), np.arange(10)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    loader = BatchLoader(x, y, 4, mean=mean, std=std, augment=False, shuffle=False)
    ref = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    batches = list(loader.batches(0))
    assert len(batches) == len(loader) == 3
    got = torch.cat([b[0] for b in batches])
    want = torch.stack([ref(Image.fromarray(img)) for img in x])
    torch.testing.assert_close(got, want)
    assert torch.equal(torch.cat([b[1] for b in batches]), torch.arange(10))


def test_crop_flip_matches_per_image_reference():
    x = torch.rand(6, 3, 8, 8)
    gen = torch.Generator().manual_seed(3)
    out = random_crop_flip(x, 2, gen)
    gen = torch.Generator().manual_seed(3)
    dy, dx = torch.randint(0, 5, (6,), generator=gen), torch.randint(0, 5, (6,), generator=gen)
    flips = torch.rand(6, generator=gen) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(6):
        want = padded[i, :, dy[i] : dy[i] + 8, dx[i] : dx[i] + 8]
        if flips[i]:
            want = want.flip(-1)
        torch.testing.assert_close(out[i], want)


def test_loader_is_deterministic_per_seed_and_epoch():
    x, y = _images(20), np.arange(20)
    kw = dict(mean=(0.5,) * 3, std=(0.5,) * 3, cutout=8)
    a = [b for b in BatchLoader(x, y, 8, seed=1, **kw).batches(3)]
    b = [b for b in BatchLoader(x, y, 8, seed=1, **kw).batches(3)]
    c = [b for b in BatchLoader(x, y, 8, seed=1, **kw).batches(4)]
    assert all(torch.equal(p[0], q[0]) for p, q in zip(a, b))
    assert not torch.equal(a[0][1], c[0][1])


def test_cli_names_a_bad_mirror(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, ISDARTS_MIRROR=str(tmp_path / "nope"))
    res = subprocess.run(
        [sys.executable, "-m", "isdarts", "data", "prepare", "cifar10", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 2
    assert (
        res.stderr
        == f"isdarts: error: $ISDARTS_MIRROR={tmp_path / 'nope'}: not a folder (expected a folder laid out like shared/data)\n"
    )
