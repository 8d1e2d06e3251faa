"""A synthetic DVS-Gesture-like event dataset, generated rather than downloaded.

Requires: NumPy and :func:`.events.make_events`. Provides :func:`generate_gesture` (one
sample), :class:`SyntheticGesture` (a tonic-style dataset of samples) and the constants
:data:`SENSOR_SIZE`, :data:`FRAME_US` and :data:`CLASSES`.

A simulated 128x128 two-polarity event camera watches 11 classes of hand/arm motions. Nothing
is downloaded; samples are generated deterministically from ``(seed, split, index)``.

The scene is a dim background with bright hands (discs) and forearms (capsules) moving along
class-specific trajectories; a head drifts slowly in every class. Each camera pixel keeps a
reference log-intensity and emits an ON (p=1) or OFF (p=0) event each time the current
log-intensity moves a contrast threshold (per-pixel mismatch) away from it, as a DVS does.
Frames are rendered every ``FRAME_US`` microseconds and the events a frame triggers are spread
over the interval before it. Background-activity noise and a few hot pixels are added.
Per sample: position, size, speed, phase, brightness, threshold and noise rates vary.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .events import EVENT_DTYPE, make_events

#: the camera
SENSOR_SIZE = (128, 128, 2)
#: frame interval of the renderer (us)
FRAME_US = 5000

CLASSES = ["Hand clapping", "Right hand wave", "Left hand wave", "Right arm cw",
           "Right arm ccw", "Left arm cw", "Left arm ccw", "Arm roll", "Air drums",
           "Air guitar", "Other gestures"]


def _hands(label, phi, g, rng_other):
    """Hand centres ``[(x, y)]`` and elbow points of the gesture at phase ``phi`` (radians,
    array over frames); ``g`` holds the sample's geometry. Person's right = image left."""
    cx, cy, s = g["cx"], g["cy"], g["s"]
    two = []
    if label == 0:    # clapping: both hands meet in front of the chest, horizontally
        off = s * (5.0 + 16.0 * (0.5 + 0.5 * np.cos(phi)))
        y = cy + 10 * s + 0 * phi
        two = [((cx - off, y), (cx - 26 * s, cy + 24 * s)),
               ((cx + off, y), (cx + 26 * s, cy + 24 * s))]
    elif label in (1, 2):  # wave: forearm swings about the elbow, high on one side
        side = -1 if label == 1 else 1
        ex, ey = cx + side * 28 * s, cy + 2 * s
        th = 0.65 * np.sin(phi)
        two = [((ex + 24 * s * np.sin(th), ey - 24 * s * np.cos(th)), (ex, ey))]
    elif label in (3, 4, 5, 6):  # big circles on one side; y points down so +phi is cw
        side = -1 if label in (3, 4) else 1
        direction = 1 if label in (3, 5) else -1
        ox, oy, r = cx + side * 26 * s, cy - 2 * s, 17 * s
        a = direction * phi
        two = [((ox + r * np.cos(a), oy + r * np.sin(a)), (cx + side * 12 * s, cy + 12 * s))]
    elif label == 7:  # arm roll: hands orbit each other in front of the chest, fast
        a = 1.6 * phi
        ox, oy, r = cx, cy + 8 * s, 9 * s
        two = [((ox + r * np.cos(a), oy + r * np.sin(a)), (cx - 24 * s, cy + 22 * s)),
               ((ox - r * np.cos(a), oy - r * np.sin(a)), (cx + 24 * s, cy + 22 * s))]
    elif label == 8:  # air drums: hands strike down alternately
        a = 1.5 * phi
        two = [((cx - 17 * s, cy + 12 * s + 11 * s * np.sin(a)), (cx - 24 * s, cy + 26 * s)),
               ((cx + 17 * s, cy + 12 * s - 11 * s * np.sin(a)), (cx + 24 * s, cy + 26 * s))]
    elif label == 9:  # air guitar: fast strumming low on one side, slow fretting hand
        a = 2.2 * phi
        two = [((cx - 10 * s + 2 * s * np.sin(a), cy + 16 * s + 10 * s * np.sin(a)),
                (cx - 22 * s, cy + 24 * s)),
               ((cx + 30 * s - 6 * s * np.sin(0.4 * phi), cy + 2 * s + 4 * s * np.sin(0.4 * phi)),
                (cx + 14 * s, cy + 14 * s))]
    else:             # other: smooth random trajectories of one or two hands
        for k in range(int(rng_other.integers(1, 3))):
            base = np.array([cx, cy + 5 * s]) + rng_other.uniform(-25, 25, 2) * s
            pos = []
            for d in range(2):
                f = rng_other.uniform(0.25, 1.8, 3)
                amp = rng_other.uniform(3, 10, 3) * s
                ph = rng_other.uniform(0, 2 * np.pi, 3)
                pos.append(base[d] + (amp[:, None] * np.sin(f[:, None] * phi[None]
                                                            + ph[:, None])).sum(0))
            two.append(((pos[0], pos[1]), (base[0] + (1 if k else -1) * 12 * s, cy + 24 * s)))
    return two


def _capsule(xx, yy, p0, p1, radius):
    """Anti-aliased coverage (0..1) of a capsule from p0 to p1 (a disc when they coincide)
    over pixel coordinates (xx, yy); everything broadcasts."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    ll = np.maximum(dx * dx + dy * dy, 1e-9)
    u = np.clip(((xx - p0[0]) * dx + (yy - p0[1]) * dy) / ll, 0.0, 1.0)
    d = np.hypot(xx - (p0[0] + u * dx), yy - (p0[1] + u * dy))
    return np.clip(radius + 0.5 - d, 0.0, 1.0)


def generate_gesture(label: int, rng: np.random.Generator) -> np.ndarray:
    """One recording of class ``label`` as a tonic event array (t in us, sorted)."""
    if not 0 <= label < len(CLASSES):
        raise InputError(f"synthetic gesture label {label} is outside [0, {len(CLASSES)})")
    width, height, _ = SENSOR_SIZE
    duration = int(rng.uniform(1.0e6, 1.5e6))
    num_frames = duration // FRAME_US
    g = {"cx": 64 + rng.uniform(-10, 10), "cy": 60 + rng.uniform(-8, 8),
         "s": rng.uniform(0.8, 1.2)}
    freq = rng.uniform(0.9, 1.5)                 # gesture cycles per second
    t_frames = (np.arange(num_frames + 1) * FRAME_US) * 1e-6
    phi = 2 * np.pi * freq * t_frames + rng.uniform(0, 2 * np.pi)
    hands = _hands(label, phi, g, rng)
    hand_r = rng.uniform(4.5, 6.5) * g["s"]
    arm_r = 0.45 * hand_r
    c_hand, c_arm = rng.uniform(1.5, 3.0), rng.uniform(0.6, 1.2)
    shapes = []  # (p0 (xs, ys), p1, radius, contrast) with per-frame arrays
    for (hx, hy), (ex, ey) in hands:
        hx, hy = np.broadcast_to(hx, phi.shape), np.broadcast_to(hy, phi.shape)
        ex, ey = np.broadcast_to(ex, phi.shape), np.broadcast_to(ey, phi.shape)
        shapes.append(((hx, hy), (hx, hy), hand_r, c_hand))
        shapes.append(((ex, ey), (hx, hy), arm_r, c_arm))
    head_x = g["cx"] + 2.0 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t_frames
                                    + rng.uniform(0, 6.3))
    head_y = g["cy"] - 34 * g["s"] + 1.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4)
                                                  * t_frames)
    shapes.append(((head_x, head_y), (head_x, head_y), 10 * g["s"], 0.8))

    thresh = np.clip(rng.uniform(0.15, 0.25) * (1 + 0.1 * rng.standard_normal(width * height)),
                     0.05, None).astype(np.float32)
    # render: every shape's coverage on a patch that follows it, vectorised over frames,
    # composited (max) into a flat (frame, pixel) volume
    frames = num_frames + 1
    fg = np.zeros(frames * width * height, np.float32)
    kk = np.arange(frames, dtype=np.int64)[:, None, None]
    for p0, p1, r, c in shapes:
        x_lo = np.floor(np.minimum(p0[0], p1[0]) - r - 1).astype(np.int64)
        y_lo = np.floor(np.minimum(p0[1], p1[1]) - r - 1).astype(np.int64)
        size_x = int(np.max(np.ceil(np.maximum(p0[0], p1[0]) + r + 2) - x_lo))
        size_y = int(np.max(np.ceil(np.maximum(p0[1], p1[1]) + r + 2) - y_lo))
        xx = (x_lo[:, None, None] + np.arange(size_x)[None, None, :]).astype(np.int32)
        yy = (y_lo[:, None, None] + np.arange(size_y)[None, :, None]).astype(np.int32)
        f32 = [np.asarray(v, np.float32)[:, None, None] for v in (*p0, *p1)]
        cov = _capsule(xx.astype(np.float32), yy.astype(np.float32), f32[:2], f32[2:],
                       np.float32(r))
        keep = np.flatnonzero((cov > 0) & (xx >= 0) & (xx < width) & (yy >= 0)
                              & (yy < height))
        lin = (np.broadcast_to(kk, cov.shape).ravel()[keep] * (width * height)
               + np.broadcast_to(yy, cov.shape).ravel()[keep] * width
               + np.broadcast_to(xx, cov.shape).ravel()[keep])
        # one shape covers a pixel at most once per frame: no repeated indices here
        fg[lin] = np.maximum(fg[lin], np.float32(c) * cov.ravel()[keep])
    fg = fg.reshape(frames, width * height)
    active = np.flatnonzero(fg.max(axis=0) > 0)
    u = np.log1p(fg[:, active]) / thresh[active]   # log-intensity in threshold units
    # the DVS pixel: a reference level m (in thresholds) moves by whole thresholds whenever
    # the log-intensity leaves (m - 1, m + 1); the camera starts adapted to frame 0
    m = np.trunc(u[0])
    ev_pix, ev_n, ev_k = [], [], []
    for k in range(1, frames):
        n = np.trunc(u[k] - m)
        hit = np.flatnonzero(n)
        if len(hit):
            m[hit] += n[hit]
            ev_pix.append(active[hit])
            ev_n.append(n[hit].astype(np.int64))
            ev_k.append(np.full(len(hit), k, np.int64))
    if ev_n:
        pix, ns, ks = (np.concatenate(a) for a in (ev_pix, ev_n, ev_k))
    else:
        pix = ns = ks = np.zeros(0, np.int64)
    ys, xs = pix // width, pix % width
    count = np.abs(ns)
    rep = np.repeat(np.arange(len(ns)), count)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    t = ((ks[rep] - 1) + (j + rng.random(len(rep))) / count[rep]) * FRAME_US
    x, y, p = xs[rep], ys[rep], ns[rep] > 0
    # background activity and hot pixels
    n_noise = rng.poisson(rng.uniform(0.05, 0.3) * width * height * duration * 1e-6)
    hot = rng.integers(0, [width, height], (int(rng.integers(0, 6)), 2))
    n_hot = rng.poisson(rng.uniform(5, 30) * duration * 1e-6, len(hot))
    x = np.concatenate([x, rng.integers(0, width, n_noise), np.repeat(hot[:, 0], n_hot)])
    y = np.concatenate([y, rng.integers(0, height, n_noise), np.repeat(hot[:, 1], n_hot)])
    t = np.concatenate([t, rng.uniform(0, duration, n_noise + n_hot.sum())])
    p = np.concatenate([p, rng.random(n_noise + n_hot.sum()) < 0.5])
    order = np.argsort(t, kind="stable")
    return make_events(x[order], y[order], np.floor(t[order]).astype(np.int64), p[order])


class SyntheticGesture:
    """A tonic-style dataset of synthetic gestures: ``len(ds)`` samples, ``ds[i] ->
    (events, label)``, with ``sensor_size``, ``ordering``, ``dtype`` and ``classes`` like
    ``tonic.datasets.DVSGesture``.

    Parameters
    ----------
    train : bool
        Training or test split (independent random streams).
    num_samples : int
        Samples in the split; labels cycle through the 11 classes (balanced).
    seed : int
        Everything is a deterministic function of ``(seed, train, index)``.
    transform : callable, optional
        Applied to each event array (e.g. ``Downsample(spatial_factor=0.25)``).
    """

    sensor_size = SENSOR_SIZE
    dtype = EVENT_DTYPE
    ordering = EVENT_DTYPE.names
    classes = CLASSES

    def __init__(self, train: bool = True, num_samples: int = 440, seed: int = 0,
                 transform=None):
        if num_samples < 1:
            raise InputError(f"SyntheticGesture: num_samples={num_samples} must be >= 1")
        self.train, self.num_samples, self.seed = train, int(num_samples), int(seed)
        self.transform = transform
        self.targets = [i % len(CLASSES) for i in range(self.num_samples)]

    def __len__(self):
        return self.num_samples

    def __getitem__(self, index):
        if not -self.num_samples <= index < self.num_samples:
            raise IndexError(f"sample {index} of {self.num_samples}")
        index %= self.num_samples
        rng = np.random.default_rng([self.seed, int(self.train), index])
        label = self.targets[index]
        events = generate_gesture(label, rng)
        if self.transform is not None:
            events = self.transform(events)
        return events, label
