"""One fit loop and one saved state for the small networks of the searches."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqvae.hunt.search.prior import TablePrior  # noqa: E402
from seqvae.hunt.search.surrogate import RtSurrogate  # noqa: E402
from seqvae.proposals import (  # noqa: E402
    PropertyHead,
    cem_samples,
    head_ascent,
    perturbed_elites,
    polar_interpolation,
)
from seqvae.smallnets import SmallNet, fit_steps  # noqa: E402


def _nets():
    rng = np.random.default_rng(0)
    tables = rng.integers(0, 5, size=(64, 2, 5)).astype(np.int32)
    rts = rng.integers(0, 16, size=64)
    z = rng.standard_normal((64, 4)).astype(np.float32)
    return [
        (lambda: PropertyHead(4, hidden=8, seed=1), lambda m, s: m.fit(z, z[:, 0], 20, seed=s),
         lambda m: m.predict(z)),
        (lambda: RtSurrogate(hidden=8, first_steps=20, steps=5, seed=1),
         lambda m, s: m.fit(tables, rts, seed=s), lambda m: m.predict(tables)),
        (lambda: TablePrior(5, 2, hidden=8, emb=4, seed=1),
         lambda m, s: m.fit([tables], steps=10, seed=s),
         lambda m: m.sample(4, 5, 2, seed=0)),
    ]


@pytest.mark.parametrize("index", range(3))
def test_each_net_fits_reproducibly_and_its_state_round_trips(index):
    make, fit, output = _nets()[index]
    a, b = make(), make()
    assert isinstance(a, SmallNet)
    state = torch.random.get_rng_state()
    assert fit(a, 7) == fit(b, 7)                    # same seed, same loss ...
    np.testing.assert_array_equal(output(a), output(b))
    assert torch.equal(state, torch.random.get_rng_state())   # global generator untouched
    assert a.trained_steps > 0
    copy = make()
    copy.load(a.state())
    assert copy.trained_steps == a.trained_steps
    np.testing.assert_array_equal(output(copy), output(a))
    # ... and a warm start from the saved state continues exactly
    assert fit(copy, 8) == fit(a, 8)


def test_fit_steps_is_one_loop_with_optional_clipping():
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.ones(3, 2)
    calls = []

    def loss():
        calls.append(1)
        return (net(x) ** 2).mean() * 1e6

    before = net.weight.detach().clone()
    fit_steps(net, opt, loss, 3, clip_norm=1e-3)
    assert len(calls) == 3 and not net.training
    # clipped: each step moves the weights by at most lr * clip_norm
    assert float((net.weight.detach() - before).norm()) <= 3 * 0.1 * 1e-3 + 1e-7
    assert fit_steps(net, opt, loss, 0) == 0.0


def test_the_shared_proposals_draw_reproducibly():
    elites = np.random.default_rng(1).standard_normal((8, 3))
    head = PropertyHead(3, hidden=8, seed=0)
    for draw in (lambda r: perturbed_elites(elites, 5, 0.5, r),
                 lambda r: perturbed_elites(elites, 5, 0.5, r, np.full(8, 1 / 8)),
                 lambda r: polar_interpolation(elites, 5, r),
                 lambda r: cem_samples(elites, 5, r, 0.1),
                 lambda r: head_ascent(head, elites, 5, r, steps=2, lr=0.1, radius=0.5,
                                       jitter=0.05)):
        a, b = draw(np.random.default_rng(4)), draw(np.random.default_rng(4))
        assert a.shape == (5, 3)
        np.testing.assert_array_equal(a, b)
    climbed = head_ascent(head, elites, 5, np.random.default_rng(4), steps=3, lr=0.1,
                          radius=0.2)
    starts = elites[np.random.default_rng(4).integers(0, 8, 5)]
    assert np.linalg.norm(climbed - starts, axis=1).max() <= 0.2 + 1e-5
