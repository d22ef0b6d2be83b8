"""Decoding latent points into token sequences: greedy, temperature sampling, beam search.

Every method works on a batch of latent points at once, under
``torch.no_grad``, and optionally under a :class:`~seqvae.constraints.DecodeConstraint`
that masks, at each step, the tokens that would make the sequence malformed.
Sequences come back as lists of ids ``[BOS, ..., EOS]`` (no padding); a row
that hit the step limit without EOS comes back without it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from seqvae.errors import DecodingError
from seqvae.model import SeqVAE

__all__ = ["METHODS", "POINT_METHODS", "DecodeSettings", "decode"]

METHODS = ("greedy", "sample", "beam")
#: The deterministic decoders a run may use for its point decodes (reconstruction,
#: prior samples): :class:`DecodeSettings.method`.
POINT_METHODS = ("greedy", "beam")
#: Widest beam the settings accept (a wider one multiplies the decoding time for
#: nothing measurable).
MAX_BEAM_WIDTH = 256


@dataclass(frozen=True)
class DecodeSettings:
    """How a run decodes latent points when the caller does not say.

    Parameters
    ----------
    method : {"greedy", "beam"}
    beam_width : int
        Beams per latent point (``"beam"``).
    grammar : bool
        Decode under the tokenizer's grammar constraint (SMILES: balanced branches,
        closed ring labels; :mod:`seqvae.molecules.grammar`) instead of the plain one.
    valid_first : bool
        ``"beam"`` only: return the best finished beam the domain accepts as valid,
        the best beam when none is (a decode-time filter, see :func:`decode`).

    >>> DecodeSettings("beam", 5, grammar=True, valid_first=True).label()
    'beam 5 + grammar + valid-first'
    >>> DecodeSettings().label()
    'greedy'
    """

    method: str = "greedy"
    beam_width: int = 8
    grammar: bool = False
    valid_first: bool = False

    def __post_init__(self):
        if self.method not in POINT_METHODS:
            raise DecodingError(f"unknown decoding {self.method!r}; choose one of "
                                f"{', '.join(POINT_METHODS)}")
        if isinstance(self.beam_width, bool) or not isinstance(self.beam_width, int) \
                or not 1 <= self.beam_width <= MAX_BEAM_WIDTH:
            raise DecodingError(f"the beam width must be an integer in 1..{MAX_BEAM_WIDTH}, "
                                f"got {self.beam_width!r}")
        if self.valid_first and self.method != "beam":
            raise DecodingError("valid-first decoding needs the beam decoder")

    def label(self) -> str:
        """A short human name (``"beam 10 + grammar + valid-first"``)."""
        parts = ["greedy" if self.method == "greedy" else f"beam {self.beam_width}"]
        parts += ["grammar"] * self.grammar + ["valid-first"] * self.valid_first
        return " + ".join(parts)

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label()}


def _as_z(model: SeqVAE, z) -> torch.Tensor:
    z = torch.as_tensor(np.asarray(z, dtype=np.float32) if not torch.is_tensor(z) else z)
    z = z.to(dtype=torch.float32, device=next(model.parameters()).device)
    if z.ndim == 1:
        z = z.unsqueeze(0)
    if z.ndim != 2 or z.shape[1] != model.config.d_z:
        raise DecodingError(f"latent points must have shape (B, {model.config.d_z}), "
                            f"got {tuple(z.shape)}")
    return z


def _step(model: SeqVAE, zp: torch.Tensor, prev: torch.Tensor, hidden, t: int):
    """Decoder step ``t``: logits (B, V) and the new hidden state."""
    dec = model.decoder
    x = dec.step_inputs(zp, prev.unsqueeze(1), start=t)
    y, hidden = dec.gru(x, hidden)
    return dec.out(y[:, 0]), hidden


def _max_steps(model: SeqVAE, constraint, max_steps: int | None) -> int:
    if max_steps is not None:
        return int(max_steps)
    if constraint is not None:
        return int(constraint.max_steps())
    return int(model.config.max_len) - 1


def _trim(rows: np.ndarray, bos: int, eos: int) -> list[list[int]]:
    out = []
    for row in rows.tolist():
        seq = [bos]
        for tok in row:
            seq.append(tok)
            if tok == eos:
                break
        out.append(seq)
    return out


@torch.no_grad()
def decode(model: SeqVAE, z, *, method: str = "greedy", constraint=None,
           temperature: float = 1.0, beam_width: int = 8, max_steps: int | None = None,
           seed: int | None = None, generator: torch.Generator | None = None,
           batch_size: int = 1024, accept=None) -> list[list[int]]:
    """Decode latent points ``z`` (B, d_z) into token id lists.

    Parameters
    ----------
    model : SeqVAE
    z : array-like (B, d_z) or (d_z,)
    method : {"greedy", "sample", "beam"}
    constraint : DecodeConstraint or None
        Restricts every step to tokens that keep the sequence well formed.
    temperature : float
        Softmax temperature for ``"sample"`` (also scales greedy/beam logits,
        which leaves greedy unchanged).
    beam_width : int
        Beams per latent point for ``"beam"``; the best-scoring finished beam wins.
    max_steps : int or None
        Tokens generated after BOS at most (default: from the constraint, or
        ``max_len - 1``).
    seed, generator
        Randomness of ``"sample"``.
    batch_size : int
        Latent points decoded together.
    accept : callable or None
        ``"beam"`` only: ``accept(seqs) -> list[bool]`` judges token id lists (a
        domain's validity, say). Each latent point then gets its highest-scoring
        finished beam that ``accept`` passes, and its best beam when none does; the
        beams run until all of them have finished. It filters the beams at decode
        time: it does not change what the model puts mass on.

    Examples
    --------
    >>> from seqvae.config import ModelConfig
    >>> torch.manual_seed(0) is not None
    True
    >>> m = SeqVAE(ModelConfig(vocab_size=6, max_len=8, d_z=2, dec_hidden=8, enc_hidden=8))
    >>> seqs = decode(m, np.zeros((3, 2)), method="greedy")
    >>> len(seqs), all(s[0] == 1 for s in seqs)
    (3, True)
    """
    if method not in METHODS:
        raise DecodingError(f"unknown decoding method {method!r}; choose one of {METHODS}")
    if not temperature > 0:
        raise DecodingError("temperature must be positive")
    if beam_width < 1:
        raise DecodingError("beam_width must be >= 1")
    if accept is not None and method != "beam":
        raise DecodingError("accept (valid-first decoding) needs method='beam'")
    was_training = model.training
    model.eval()
    try:
        z = _as_z(model, z)
        if generator is None and method == "sample":
            generator = torch.Generator(device=z.device)
            generator.manual_seed(0 if seed is None else int(seed))
        steps = _max_steps(model, constraint, max_steps)
        out: list[list[int]] = []
        for start in range(0, z.shape[0], batch_size):
            chunk = z[start:start + batch_size]
            if method == "beam":
                out.extend(_beam(model, chunk, constraint, temperature, beam_width, steps, accept))
            else:
                out.extend(_greedy_or_sample(model, chunk, constraint, temperature, steps,
                                             method == "sample", generator))
        return out
    finally:
        model.train(was_training)


def _greedy_or_sample(model, z, constraint, temperature, steps, sample, generator):
    cfg = model.config
    b = z.shape[0]
    zp = torch.relu(model.decoder.z_proj(z))
    hidden = model.decoder.initial_state(z)
    prev = torch.full((b,), cfg.bos_id, dtype=torch.long, device=z.device)
    finished = torch.zeros(b, dtype=torch.bool, device=z.device)
    state = constraint.start(b) if constraint is not None else None
    tokens = []
    for t in range(steps):
        logits, hidden = _step(model, zp, prev, hidden, t)
        logits = logits / temperature
        if constraint is not None:
            allowed = torch.from_numpy(constraint.allowed(state)).to(z.device)
            logits = logits.masked_fill(~allowed, float("-inf"))
        if sample:
            probs = torch.softmax(logits, dim=-1)
            tok = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        else:
            tok = logits.argmax(dim=-1)
        tok = torch.where(finished, torch.full_like(tok, cfg.pad_id), tok)
        if constraint is not None:
            state = constraint.advance(state, tok.cpu().numpy())
        finished = finished | (tok == cfg.eos_id)
        tokens.append(tok)
        prev = tok
        if bool(finished.all()):
            break
    rows = torch.stack(tokens, 1).cpu().numpy() if tokens else np.zeros((b, 0), dtype=np.int64)
    return _trim(rows, cfg.bos_id, cfg.eos_id)


def _beam(model, z, constraint, temperature, width, steps, accept=None):
    cfg = model.config
    b = z.shape[0]
    dev = z.device
    zr = z.repeat_interleave(width, 0)
    zp = torch.relu(model.decoder.z_proj(zr))
    hidden = model.decoder.initial_state(zr)
    prev = torch.full((b * width,), cfg.bos_id, dtype=torch.long, device=dev)
    scores = torch.full((b, width), float("-inf"), device=dev)
    scores[:, 0] = 0.0  # one live beam per row at the start
    finished = torch.zeros(b * width, dtype=torch.bool, device=dev)
    state = constraint.start(b * width) if constraint is not None else None
    seqs = torch.zeros((b * width, 0), dtype=torch.long, device=dev)
    vocab = cfg.vocab_size
    for t in range(steps):
        logits, hidden = _step(model, zp, prev, hidden, t)
        logits = logits / temperature
        if constraint is not None:
            allowed = torch.from_numpy(constraint.allowed(state)).to(dev)
            logits = logits.masked_fill(~allowed, float("-inf"))
        logp = torch.log_softmax(logits, dim=-1)
        # A finished beam continues with PAD at no cost, so it competes unchanged.
        pad_only = torch.full((vocab,), float("-inf"), device=dev)
        pad_only[cfg.pad_id] = 0.0
        logp = torch.where(finished.unsqueeze(1), pad_only.unsqueeze(0), logp)
        cand = (scores.unsqueeze(2) + logp.view(b, width, vocab)).view(b, width * vocab)
        top, idx = cand.topk(width, dim=1)
        beam = idx // vocab
        tok = idx % vocab
        rows = (torch.arange(b, device=dev).unsqueeze(1) * width + beam).reshape(-1)
        tok = tok.reshape(-1)
        scores = top
        seqs = torch.cat([seqs[rows], tok.unsqueeze(1)], 1)
        if hidden is not None:
            hidden = hidden[:, rows]
        finished = finished[rows] | (tok == cfg.eos_id)
        if constraint is not None:
            # Dead candidates (score -inf) may carry a disallowed token; give them PAD
            # on a finished copy so the constraint state stays consistent.
            state = state.index(rows.cpu().numpy())
            dead = torch.isinf(top.reshape(-1)).cpu().numpy()
            tok_np = tok.cpu().numpy().copy()
            if dead.any():
                allowed_now = constraint.allowed(state)
                for r in np.flatnonzero(dead):
                    if not allowed_now[r, tok_np[r]]:
                        tok_np[r] = int(np.flatnonzero(allowed_now[r])[0])
            state = constraint.advance(state, tok_np)
        prev = tok
        # Beams are sorted by score and unfinished scores only fall: once every
        # row's best beam has finished, nothing can overtake it. With `accept` the
        # best beam may be refused, so every beam gets to finish.
        done = finished.view(b, width) | torch.isinf(scores)
        if bool((done.all() if accept is not None else finished.view(b, width)[:, 0].all())):
            break
    best = scores.argmax(dim=1)
    if accept is not None:
        best = _first_accepted(seqs, scores, finished, best, accept, cfg)
    pick = torch.arange(b, device=dev) * width + best
    return _trim(seqs[pick].cpu().numpy(), cfg.bos_id, cfg.eos_id)


def _first_accepted(seqs, scores, finished, best, accept, cfg) -> torch.Tensor:
    """Per latent point, the highest-scoring finished beam that ``accept`` passes
    (``best`` where none does)."""
    b, width = scores.shape
    live = (finished.view(b, width) & torch.isfinite(scores)).cpu().numpy()
    rows = np.flatnonzero(live.reshape(-1))
    trimmed = _trim(seqs[torch.as_tensor(rows, device=seqs.device)].cpu().numpy(),
                    cfg.bos_id, cfg.eos_id) if rows.size else []
    verdicts = [bool(v) for v in accept(trimmed)] if trimmed else []
    if len(verdicts) != len(trimmed):
        raise DecodingError(f"accept returned {len(verdicts)} verdicts for {len(trimmed)} "
                            "sequences")
    passed = np.zeros(b * width, dtype=bool)
    passed[rows] = verdicts
    passed = passed.reshape(b, width)
    order = np.argsort(-scores.cpu().numpy(), axis=1, kind="stable")
    out = best.cpu().numpy().copy()
    for i in np.flatnonzero(passed.any(1)):
        out[i] = next(j for j in order[i] if passed[i, j])
    return torch.as_tensor(out, device=best.device)
