"""A split of an image folder too large to hold decoded: read from its files as the batches ask for them.

``FolderImages`` stands where the in-memory reader's uint8 array stands (``len``, ``shape``, ``images[indices]``),
so the training and evaluation streams (``pipeline.py`` in tf.data, ``numpy_pipeline.py`` on JAX and PyTorch)
take either one and give the same batches: the streams draw their shuffles and augmentations from (seed, epoch,
position) alone, and each image is decoded and fit by ``image_decode`` exactly as the in-memory reader does.
Nothing decoded is kept, so memory does not grow with the number of images; tf.data decodes several batches at
once (``num_parallel_calls``), Pillow releasing the GIL while it decodes.

Exit: a tf.data iterator that a program still holds when Python exits is destroyed during the interpreter's
finalization, and waits for its threads; one of them calling ``FolderImages`` then waits for the GIL, which
finalization never hands out, and the program hangs. ``guarded_reader`` therefore reads through a gate that an
``atexit`` handler closes before finalization: later calls return zeros at once, unread (no one consumes a batch
once the program exits; tf.data's buffers fill and its threads go idle), and the handler waits until no call is in
flight, so the iterator is destroyed without one. An iterator deleted while the program runs needs none of this.

``pixel_stats``: the per-channel mean and standard deviation of at most ``STATS_IMAGES`` images, from exact
integer sums, the data set's normalization in either mode.
"""

import atexit
import math
import threading
import time

import numpy as np

from tfzoo.data.image_decode import load_crop, load_image

STATS_IMAGES = 50_000  # the first images (in the interleaved order) that the normalization is measured on
_CHUNK = 256


class FolderImages:
    """The images of ``files`` (``image_files.ImageFile``, in order) of ``store``, each brought to ``size``
    (height, width) and ``channels`` when it is read: ``images[i]`` is one uint8 [H, W, C] image, ``images[rows]``
    (a slice, an integer array or a boolean mask) a uint8 [N, H, W, C] batch."""

    streamed = True  # what the pipelines check, rather than the type (they do not import the readers)
    dtype = np.dtype(np.uint8)

    def __init__(self, store, files, size, channels):
        self.store, self.files = store, tuple(files)
        self.size, self.channels = tuple(size), int(channels)

    def __len__(self):
        return len(self.files)

    @property
    def shape(self):
        return (len(self.files), *self.size, self.channels)

    def __getitem__(self, key):
        rows = np.arange(len(self.files))[key]
        if rows.ndim == 0:
            return self._load(int(rows))
        if rows.size == 0:
            return np.zeros((0, *self.size, self.channels), np.uint8)
        return np.stack([self._load(int(i)) for i in rows.reshape(-1)]).reshape(*rows.shape, *self.size, self.channels)

    def crops(self, rows, boxes):
        """uint8 [N, H, W, C]: the random-resized crop ``boxes[i]`` (``augment.resized_crop_boxes``) of image
        ``rows[i]``, cut from its file at full resolution (``image_decode.crop_resized``)."""
        rows, boxes = np.asarray(rows).reshape(-1), np.asarray(boxes).reshape(-1, 4)
        if rows.size == 0:
            return np.zeros((0, *self.size, self.channels), np.uint8)
        return np.stack([load_crop(self.store, self.files[int(i)], self.size, self.channels, box)
                         for i, box in zip(rows, boxes)])

    def guarded_reader(self, crops=False):
        """``rows -> self[rows]`` (with ``crops``: ``(rows, boxes) -> self.crops(rows, boxes)``) for tf.data's
        ``numpy_function``, closed before the interpreter exits."""
        return guarded_reader(self, crops)

    def subset(self, rows):
        """The ``FolderImages`` of the files at ``rows`` (a slice, integer array or boolean mask), nothing decoded."""
        return FolderImages(self.store, [self.files[i] for i in np.arange(len(self.files))[rows]], self.size,
                            self.channels)

    def _load(self, index):
        return load_image(self.store, self.files[index], self.size, self.channels)

    def __repr__(self):
        return f"FolderImages({len(self.files)} files of {self.store.root}, {self.shape[1:]})"


class _Gate:
    """Counts the calls in flight of every ``guarded_reader`` and refuses new ones once closed (at exit)."""

    def __init__(self):
        self.lock, self.in_flight, self.closed, self.registered = threading.Lock(), 0, False, False

    def register(self):
        with self.lock:
            if not self.registered:
                atexit.register(self.close)
                self.registered = True

    def enter(self):
        """False once closed; else counts the call in flight (``leave`` ends it) and returns True."""
        with self.lock:
            if self.closed:
                return False
            self.in_flight += 1
            return True

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def close(self, settle=0.2, timeout=10.0):
        """Refuses new calls, then returns once none has been in flight for ``settle`` seconds (at most ``timeout``)."""
        with self.lock:
            self.closed = True
        deadline, quiet_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            with self.lock:
                busy = self.in_flight > 0
            now = time.monotonic()
            quiet_since = None if busy else (quiet_since or now)
            if quiet_since is not None and now - quiet_since >= settle:
                return
            time.sleep(0.01)


_GATE = _Gate()


def guarded_reader(images, crops=False):
    """``rows -> images[rows]``, or with ``crops`` ``(rows, boxes) -> images.crops(rows, boxes)``, for a
    ``tf.numpy_function``, through the exit gate (see the module's docstring)."""
    _GATE.register()

    def read(rows, *boxes):
        if not _GATE.enter():
            return np.zeros((len(rows), *images.shape[1:]), np.uint8)
        try:
            return images.crops(rows, *boxes) if crops else images[rows]
        finally:
            _GATE.leave()

    return read


def take(images, rows):
    """``images[rows]`` for an array, the ``FolderImages`` subset (nothing decoded) for streamed images."""
    return images.subset(rows) if getattr(images, "streamed", False) else images[rows]


def pixel_stats(images, limit=STATS_IMAGES):
    """(mean, std) per channel, rounded to 3 decimals, of the first ``limit`` of ``images`` (an array or
    ``FolderImages``), from exact integer sums: the same figures whichever holds the pixels."""
    count = min(len(images), limit)
    total = squares = 0
    for start in range(0, count, _CHUNK):
        chunk = np.asarray(images[start:min(start + _CHUNK, count)], np.int64)
        pixels = chunk.reshape(-1, chunk.shape[-1])
        total = total + pixels.sum(0)
        squares = squares + (pixels * pixels).sum(0)
    n = count * math.prod(images.shape[1:3])
    mean = [int(s) / n for s in total]
    std = [math.sqrt(max(int(q) * n - int(s) ** 2, 0)) / n for s, q in zip(total, squares)]
    return tuple(round(m, 3) for m in mean), tuple(round(max(s, 1e-3), 3) for s in std)
