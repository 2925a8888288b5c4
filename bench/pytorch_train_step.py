#!/usr/bin/env python3
"""One training step of hark's default architecture in PyTorch, for comparison with
`cargo bench --bench train_step`: frame stacking 3, 2-layer bidirectional GRU (192),
dropout 0.1 between the layers and before the output, linear output to 29 classes, CTC loss,
AdamW. Batch 16 x 300 frames x 39 features.

Run: .venv-torch/bin/python bench/pytorch_train_step.py [--threads N] [--device cuda]
[--batch N] [--layers N] [--hidden N] (scripts/setup-libtorch.sh creates .venv-torch.)
"""
import argparse
import time

import torch


class Model(torch.nn.Module):
    def __init__(self, dim=39, stack=3, hidden=192, layers=2, vocab=29, dropout=0.1):
        super().__init__()
        self.stack = stack
        self.rnn = torch.nn.GRU(dim * stack, hidden, num_layers=layers, dropout=dropout,
                                batch_first=True, bidirectional=True)
        self.dropout = torch.nn.Dropout(dropout)
        self.out = torch.nn.Linear(2 * hidden, vocab)

    def forward(self, x):
        n, t, c = x.shape
        x = x.reshape(n, t // self.stack, c * self.stack)
        y, _ = self.rnn(x)
        return self.out(self.dropout(y))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=192)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    dev, n = torch.device(args.device), args.batch
    model = Model(hidden=args.hidden, layers=args.layers).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(n, 300, 39, device=dev)
    targets = torch.tensor([[1 + (i * 7 + j * 3) % 28 for j in range(60)] for i in range(n)],
                           device=dev)
    in_len = torch.full((n,), 100, dtype=torch.long, device=dev)
    tgt_len = torch.full((n,), 60, dtype=torch.long, device=dev)

    def step():
        opt.zero_grad()
        lp = model(x).log_softmax(2).transpose(0, 1)
        loss = torch.nn.functional.ctc_loss(lp, targets, in_len, tgt_len, zero_infinity=True,
                                            reduction="none")
        loss = (loss / tgt_len).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss.item()  # waits for the device, as hark's step does

    step()
    runs = 5
    t0 = time.perf_counter()
    for _ in range(runs):
        step()
    ms = (time.perf_counter() - t0) / runs * 1000
    where = f"{args.threads} thread(s)" if dev.type == "cpu" else str(dev)
    print(f"pytorch {torch.__version__} train step ({where}, batch {n}, {args.layers} x "
          f"{args.hidden}): {ms:.1f} ms")


if __name__ == "__main__":
    main()
